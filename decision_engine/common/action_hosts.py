"""Which compute hosts an action of a plan touches.

Shared by the store (refusing to start a plan over the hosts of a running
one) and the applier (its dependency graph), so both read the same hosts
from the same input parameters.
"""

# Input parameters naming hosts, and the role the host plays.
_ROLES = (('source_node', 'source'), ('destination_node', 'destination'),
          ('hostname', 'target'))


def roles_of(input_parameters):
    """``[(hostname, role)]`` with role ``source``, ``destination`` or
    ``target``, in a fixed order; empty for actions on no host."""
    params = input_parameters or {}
    return [(params[key], role) for key, role in _ROLES
            if isinstance(params.get(key), str) and params[key]]


def hosts_of(input_parameters):
    return {host for host, _ in roles_of(input_parameters)}
