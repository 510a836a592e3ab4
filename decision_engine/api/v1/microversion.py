"""Microversions: ``OpenStack-API-Version: infra-optim 1.N``.

N is 0 to :data:`MAX_MINOR` or ``latest``. A request without the header,
or with one that cannot be parsed, gets 1.0 (as Watcher); a version out of
range is refused with 406. Every response carries the minimum, the maximum
and the version served, and ``Vary: OpenStack-API-Version``.

What each version adds (Watcher's history):

* 1.1 ``start_time`` and ``end_time`` of audits;
* 1.2 ``force`` of audits;
* 1.3 ``GET /v1/data_model``;
* 1.4 ``POST /v1/webhooks/{audit}``;
* 1.5 SKIPPED actions and ``status_message``;
* 1.6 more server fields in the data model;
* 1.7 ``default_parameters`` of audit templates.
"""

import microversion_parse

SERVICE_TYPE = 'infra-optim'
HEADER = 'OpenStack-API-Version'
MIN_MINOR = 0
MAX_MINOR = 7
VERSIONS = ['1.%d' % n for n in range(MIN_MINOR, MAX_MINOR + 1)]
MIN_VERSION = VERSIONS[0]
MAX_VERSION = VERSIONS[-1]

START_END_TIME = (1, 1)
FORCE = (1, 2)
DATA_MODEL = (1, 3)
WEBHOOK = (1, 4)
SKIPPED_ACTION = (1, 5)
EXTENDED_MODEL = (1, 6)
TEMPLATE_DEFAULT_PARAMETERS = (1, 7)


class NotAcceptable(ValueError):
    """The version asked for is not served; the message names it."""


def _parse(text):
    try:
        return microversion_parse.parse_version_string(text)
    except (TypeError, ValueError):
        return None


def negotiate(headers):
    """The version a request asks for.

    :param headers: the request's headers (a webob ``EnvironHeaders`` or
        any mapping).
    :returns: a ``microversion_parse.Version`` (a ``(major, minor)``
        tuple).
    :raises NotAcceptable: for a well-formed version out of range.
    """
    try:
        asked = microversion_parse.get_version(headers,
                                               service_type=SERVICE_TYPE)
    except (TypeError, ValueError):
        asked = None
    if asked is None:
        return _parse(MIN_VERSION)
    if asked.strip() == 'latest':
        return _parse(MAX_VERSION)
    version = _parse(asked.strip())
    if version is None:
        # NOTE: malformed, as Watcher: served as the minimum.
        return _parse(MIN_VERSION)
    if str(version) not in VERSIONS:
        raise NotAcceptable(
            'Version %s was requested but the minor version is not '
            'supported by this service. The supported version range is: '
            '[%s, %s].' % (asked.strip(), MIN_VERSION, MAX_VERSION))
    return version


def response_headers(version):
    """The headers every answer carries; ``version`` may be None (the
    request's was refused)."""
    headers = [
        ('OpenStack-API-Minimum-Version', MIN_VERSION),
        ('OpenStack-API-Maximum-Version', MAX_VERSION),
        ('Vary', HEADER),
    ]
    if version is not None:
        headers.append((HEADER, '%s %s' % (SERVICE_TYPE, version)))
    return headers


def at_least(version, wanted):
    """Whether ``version`` (a Version) is ``wanted`` (a tuple) or later."""
    return tuple(version) >= tuple(wanted)
