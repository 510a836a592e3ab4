"""What a cluster needs of the rest of the configuration."""


class ClusterMisconfigured(ValueError):
    """An option contradicts ``[coordination] backend_url``; one line."""


def check_store(conf):
    """Several engines share work through the store: the embedded SQLite
    store of one engine cannot be shared.

    :raises ClusterMisconfigured: with ``backend_url`` and a SQLite store.
    """
    if not conf.coordination.backend_url:
        return
    connection = conf.database.connection or ''
    if not connection or connection.startswith('sqlite'):
        raise ClusterMisconfigured(
            '[coordination] backend_url is set but the store is SQLite%s; '
            'several engines need one shared PostgreSQL store: set '
            '[database] connection' % (
                '' if connection else ' (the embedded one)'))
