"""decision-engine: a live model of an OpenStack cloud and the audits on it."""

import os
import warnings

# NOTE: futurist, tooz and oslo_service import eventlet even when the
# threading backend is used, and eventlet imports dnspython for its green
# resolver unless EVENTLET_NO_GREENDNS says otherwise. dnspython in turn
# touches cryptography's DSA classes, which cryptography >= 46 deprecates
# with eight lines of CryptographyDeprecationWarning on stderr, on top of
# every one-line error of our commands. The engine never resolves names
# through eventlet's resolver on the threading backend, and Nova long ran
# its eventlet services with the same switch, so the resolver is not
# imported at all (not imported beats filtered). setdefault: an operator
# who wants the green resolver on the eventlet backend sets
# EVENTLET_NO_GREENDNS=no.
os.environ.setdefault('EVENTLET_NO_GREENDNS', 'yes')

# NOTE: eventlet also prints a loud deprecation warning on import (and
# another on every fork). Those warnings say nothing about this process's
# behaviour when it runs on native threads, so they are filtered before
# anything can import eventlet. The eventlet backend logs its own one-line
# deprecation notice instead (see decision_engine.concurrency.backend).
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
warnings.filterwarnings('ignore', message=r'Using fork\(\) is a bad idea')
