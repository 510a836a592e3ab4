"""Options of the ``[nova]`` group: how to reach the Compute API.

keystoneauth session, auth and adapter options, registered as Nova registers
its client groups (see :mod:`decision_engine.conf.keystone_auth`).
"""

from decision_engine.conf import keystone_auth

GROUP = 'nova'
SERVICE_TYPE = 'compute'


def register_opts(conf):
    keystone_auth.register(conf, GROUP, SERVICE_TYPE)


def list_opts():
    return keystone_auth.list_opts(SERVICE_TYPE)
