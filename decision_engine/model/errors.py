"""Errors of the model build."""


class ModelBuildError(RuntimeError):
    """A model build failed; no partial model was produced.

    The message names what failed: the request (service and path), the
    host when the request was about one, the HTTP status or the connection
    error, and how many attempts were made.

    :attr endpoint: ``'<service> <path>'`` of the failed request, if any.
    :attr host: the compute host the failed request was about, if any.
    :attr status: the last HTTP status, if the server answered.
    """

    def __init__(self, message, endpoint=None, host=None, status=None):
        super().__init__(message)
        self.endpoint = endpoint
        self.host = host
        self.status = status


class TransportError(ConnectionError):
    """A request got no HTTP answer (connect failure, reset, timeout)."""
