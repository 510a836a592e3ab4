"""decision-engine: a live model of an OpenStack cloud and the audits on it."""

import warnings

# NOTE: futurist, tooz and oslo_service import eventlet even when the
# threading backend is used, and eventlet prints a loud deprecation warning
# on import (and another on every fork). Those warnings say nothing about
# this process's behaviour when it runs on native threads, so they are
# filtered before anything can import eventlet. The eventlet backend logs
# its own one-line deprecation notice instead
# (see decision_engine.concurrency.backend).
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
warnings.filterwarnings('ignore', message=r'Using fork\(\) is a bad idea')
