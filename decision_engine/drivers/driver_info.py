"""Checks shared by the drivers' ``validate(driver_info)``.

Every check raises :class:`~decision_engine.drivers.base.InvalidDriverInfo`
with one line naming the field. A message may name a field and show a
harmless value (a port, a scheme), never the value of a secret field and
never an address that could carry credentials.
"""

import os
from urllib import parse as urlparse

from decision_engine.drivers import base


def check_known(driver_info, known, driver):
    unknown = set(driver_info) - set(known)
    if unknown:
        raise base.InvalidDriverInfo(
            'unknown field(s) %s for the %s driver (known: %s)'
            % (', '.join(sorted(map(str, unknown))), driver,
               ', '.join(sorted(known))))


def string(driver_info, field, required=False):
    """The stripped string in ``field``, or None when absent and optional.
    """
    value = driver_info.get(field)
    if value is None:
        if required:
            raise base.InvalidDriverInfo('"%s" is required' % field)
        return None
    if not isinstance(value, str) or not value.strip():
        raise base.InvalidDriverInfo('"%s" must be a non-empty string'
                                     % field)
    return value.strip()


def credentials(driver_info):
    """``(username, password)``; both or neither must be given."""
    username = string(driver_info, 'username')
    # NOTE: a password is not stripped: spaces may be part of it.
    password = driver_info.get('password')
    if password is not None and (not isinstance(password, str)
                                 or not password):
        raise base.InvalidDriverInfo('"password" must be a non-empty string')
    if (username is None) != (password is None):
        raise base.InvalidDriverInfo('"username" and "password" go together:'
                                     ' give both or neither')
    return username, password


def http_url(driver_info, field='address'):
    """An ``http(s)://host[:port]`` URL without credentials in it."""
    value = string(driver_info, field, required=True)
    if '://' not in value:
        value = 'https://' + value
    try:
        parts = urlparse.urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise base.InvalidDriverInfo('"%s" is not a valid URL' % field)
    if parts.scheme not in ('http', 'https'):
        raise base.InvalidDriverInfo('"%s" must use http or https, not %r'
                                     % (field, parts.scheme))
    if parts.username is not None or parts.password is not None:
        # NOTE: the address is not echoed: it holds a secret.
        raise base.InvalidDriverInfo(
            '"%s" must not contain credentials; put them in "username" and '
            '"password"' % field)
    if not parts.hostname:
        raise base.InvalidDriverInfo('"%s" has no host name' % field)
    return urlparse.urlunsplit((parts.scheme, parts.netloc, '', '', ''))


def host(driver_info, field='address'):
    value = string(driver_info, field, required=True)
    if '/' in value or '@' in value or ' ' in value:
        raise base.InvalidDriverInfo('"%s" must be a host name or an IP '
                                     'address' % field)
    return value


def port(driver_info, field, default):
    value = driver_info.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) \
            or not 0 < value < 65536:
        raise base.InvalidDriverInfo('"%s" must be a port number (1-65535),'
                                     ' not %r' % (field, value))
    return value


def verify_ca(driver_info, default, field='verify_ca'):
    """True, False, or the path of an existing CA bundle (file or dir)."""
    value = driver_info.get(field, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ('true', 'false'):
        return value.strip().lower() == 'true'
    if isinstance(value, str) and value.strip():
        if not os.path.exists(value):
            raise base.InvalidDriverInfo('"%s": CA bundle %s does not exist'
                                         % (field, value))
        return value
    raise base.InvalidDriverInfo('"%s" must be true, false or the path of a '
                                 'CA bundle' % field)


def choice(driver_info, field, choices, default):
    value = driver_info.get(field, default)
    if value not in choices:
        raise base.InvalidDriverInfo('"%s" must be one of %s, not %r'
                                     % (field, ', '.join(choices), value))
    return value
