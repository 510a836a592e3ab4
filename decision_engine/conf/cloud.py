"""Options of the ``[cloud]`` group: which cloud the engine models."""

from oslo_config import cfg

GROUP = 'cloud'

opts = [
    cfg.StrOpt(
        'cloud_name',
        help='Name of a cloud in clouds.yaml (openstacksdk looks in '
             './clouds.yaml, ~/.config/openstack/ and /etc/openstack/). '
             'When set, the connection is built from that entry and the '
             'auth options of [nova], [placement] and [ironic] are not '
             'used. When unset, the connection is built from [nova] (and '
             'from [placement] or [ironic] for their service when those '
             'groups set their own auth_type). Takes effect on restart.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts
