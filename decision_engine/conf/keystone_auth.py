"""keystoneauth options for the service groups (``[nova]``, ``[placement]``,
``[ironic]``), registered the way Nova registers its client groups.

Each group gets keystoneauth's session options (TLS, timeout), auth options
(``auth_type`` and the plugin's options, e.g. ``auth_url``, ``username``)
and adapter options (``service_type``, ``valid_interfaces``,
``region_name``, ``endpoint_override``, ...). openstacksdk reads the adapter
options of ``[nova]``, ``[placement]`` and ``[ironic]`` itself when the
connection is built with ``oslo_conf`` (see
:mod:`decision_engine.cloud.connection`).
"""

import copy

from keystoneauth1 import loading as ks_loading

DEFAULT_VALID_INTERFACES = ['internal', 'public']


def register(conf, group, service_type):
    """Register session, auth and adapter options in ``group``."""
    ks_loading.register_session_conf_options(conf, group)
    ks_loading.register_auth_conf_options(conf, group)
    ks_loading.register_adapter_conf_options(conf, group,
                                             include_deprecated=False)
    conf.set_default('valid_interfaces', DEFAULT_VALID_INTERFACES,
                     group=group)
    conf.set_default('service_type', service_type, group=group)


def list_opts(service_type):
    """The options :func:`register` adds, for the sample config.

    Auth options are those of the ``password`` plugin, the usual one, with
    the common ones (``auth_type``, ``auth_section``).
    """
    opts = (ks_loading.get_session_conf_options()
            + ks_loading.get_auth_common_conf_options()
            + ks_loading.get_auth_plugin_conf_options('password')
            + ks_loading.get_adapter_conf_options(include_deprecated=False))
    unique = {}
    for opt in opts:
        unique.setdefault(opt.dest, opt)
    result = []
    for opt in unique.values():
        if opt.dest in ('service_type', 'valid_interfaces'):
            opt = copy.deepcopy(opt)
            opt.default = (service_type if opt.dest == 'service_type'
                           else DEFAULT_VALID_INTERFACES)
        result.append(opt)
    return result
