"""One GET with retries, backoff, Retry-After and the build's deadline.

Retried: no HTTP answer (connection refused or reset, timeout), 5xx, 429,
and a 200 whose body is not JSON (a truncated answer). A 401 is sent again
once, at once (the token expired: the transport re-authenticates). Not
retried: other 4xx. The delay before retry ``n`` is drawn uniformly from
``[0, min(max_retry_delay, retry_delay * 2 ** (n - 1))]`` ("full jitter"),
or is the server's ``Retry-After`` (capped at ``max_retry_delay``). No
attempt starts after the deadline and no wait runs past it. The loop is
:mod:`decision_engine.common.retry_policy`'s.
"""

import json
import random
import threading
import time

from decision_engine.common import retry_after as retry_after_mod
from decision_engine.common import retry_policy
from decision_engine.model.errors import ModelBuildError
from decision_engine.model.errors import TransportError


class FetchSettings:
    """The ``[collector]`` numbers a fetcher needs (read once per build)."""

    def __init__(self, max_retries=4, retry_delay=0.5, max_retry_delay=30.0,
                 request_timeout=60.0):
        self.max_retries = max_retries
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.request_timeout = request_timeout

    @classmethod
    def from_conf(cls, group):
        return cls(group.max_retries, group.retry_delay,
                   group.max_retry_delay, group.request_timeout)


class Fetcher:
    """GETs JSON documents for one build.

    :param transport: see :mod:`decision_engine.collector.transport`.
    :param deadline: ``time.monotonic()`` value after which nothing starts.
    """

    def __init__(self, transport, settings, deadline, timeout_s,
                 rng=None):
        self.transport = transport
        self.settings = settings
        self.deadline = deadline
        self.timeout_s = timeout_s
        self.aborted = threading.Event()
        self._count_lock = threading.Lock()
        self._requests = 0
        self._by_service = {}
        self._rng = rng or random.Random()

    @property
    def requests(self):
        """Requests sent so far (retries included)."""
        return self._requests

    @property
    def requests_by_service(self):
        """``{service: requests sent so far}`` (retries included)."""
        with self._count_lock:
            return dict(self._by_service)

    def get_json(self, service, path, params=None, microversion=None,
                 host=None):
        """The decoded JSON object answered to ``GET path``.

        :param host: the compute host the request is about (for errors).
        :raises ModelBuildError: after the last attempt, at the deadline, or
            when the build was aborted.
        """
        endpoint = '%s %s' % (service, path)
        about = ' for host %s' % host if host else ''
        reauth = 1

        def attempt():
            nonlocal reauth
            while True:
                left = self.deadline - time.monotonic()
                with self._count_lock:
                    self._requests += 1
                    self._by_service[service] = \
                        self._by_service.get(service, 0) + 1
                try:
                    status, headers, body = self.transport.get(
                        service, path, params, microversion,
                        min(self.settings.request_timeout, left))
                except TransportError as exc:
                    raise _Failed(str(exc))
                if status == 401 and reauth:
                    # NOTE: keystoneauth re-authenticates on a 401 and
                    # retries once, but when several threads get their 401
                    # together only the first one's invalidate() succeeds
                    # and the others give up; the token is fresh now. The
                    # second GET is not an attempt of its own.
                    reauth -= 1
                    if self.aborted.is_set():
                        raise ModelBuildError('build aborted', endpoint,
                                              host)
                    if time.monotonic() >= self.deadline:
                        raise self._deadline_error(endpoint, about, host)
                    continue
                return _answer(endpoint, about, host, status, headers,
                               body)

        try:
            return self._policy().call(
                attempt, retryable=lambda exc: isinstance(exc, _Failed),
                retry_after=lambda exc: exc.retry_after,
                deadline=self.deadline, stop=self.aborted)
        # NOTE: from None: the message names the last error; the policy's
        # exception says nothing more.
        except retry_policy.Stopped:
            raise ModelBuildError('build aborted', endpoint, host) from None
        except retry_policy.DeadlineReached:
            raise self._deadline_error(endpoint, about, host) from None
        except retry_policy.PastDeadline as gave_up:
            raise self._deadline_error(endpoint, about, host,
                                       'last error: %s' % gave_up.last) \
                from None
        except retry_policy.AttemptsExhausted as gave_up:
            raise ModelBuildError(
                'GET %s%s failed after %d attempt(s): %s'
                % (endpoint, about, gave_up.attempts, gave_up.last),
                endpoint, host, gave_up.last.status) from None

    def _policy(self):
        return retry_policy.Policy(
            self.settings.max_retries + 1,
            retry_policy.full_jitter(self.settings.retry_delay),
            max_delay=self.settings.max_retry_delay, rng=self._rng)

    def _deadline_error(self, endpoint, about, host, detail=''):
        return ModelBuildError(
            'model build did not finish within [collector] build_timeout '
            '(%s s): GET %s%s not done%s' % (
                self.timeout_s, endpoint, about,
                ' (%s)' % detail if detail else ''), endpoint, host)


class _Failed(Exception):
    """A try that another one may fix; the message is the problem."""

    def __init__(self, problem, status=None, retry_after=None):
        super().__init__(problem)
        self.status = status
        self.retry_after = retry_after


def _answer(endpoint, about, host, status, headers, body):
    """The JSON object of a 200; :raises _Failed: for an answer worth
    another try; :raises ModelBuildError: for any other."""
    if status == 200:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise _Failed('malformed JSON body (%s)' % exc, status)
        if isinstance(data, dict):
            return data
        raise _Failed('JSON body is not an object', status)
    if status == 429 or status >= 500:
        raise _Failed('HTTP %d %s' % (status, _message(body)), status,
                      retry_after_mod.seconds(headers))
    raise ModelBuildError(
        'GET %s%s failed: HTTP %d %s'
        % (endpoint, about, status, _message(body)), endpoint, host, status)


def _message(body):
    """A short reason from an OpenStack error body."""
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        text = (body or b'')[:200]
        return ('(%s)' % text.decode('utf-8', 'replace')) if text else ''
    if isinstance(data, dict):
        for value in data.values():
            if isinstance(value, dict) and 'message' in value:
                return '(%s)' % value['message']
            if isinstance(value, list) and value and \
                    isinstance(value[0], dict) and 'detail' in value[0]:
                return '(%s)' % value[0]['detail']
    return ''
