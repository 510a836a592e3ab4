"""URLs shown in messages without the secrets they may hold."""

from urllib import parse

MASK = '***'
#: Query parameters that hold a secret (tooz's ``?password=``, a
#: database URL's ``?password=``, a token in a query string).
SECRET_PARAMETERS = frozenset(['password', 'passwd', 'pass', 'secret',
                               'token', 'auth_token', 'sasl_password'])


def without_password(url):
    """``url`` with the password of its user info and the value of every
    secret-like query parameter replaced by ``***``.

    Anything that does not parse as a URL is returned masked as a whole:
    a message must never show what it cannot tell is harmless.
    """
    if not url:
        return url
    try:
        parts = parse.urlsplit(url)
        password = parts.password
    except ValueError:
        return MASK
    netloc = parts.netloc
    if password is not None:
        userinfo, _, hostport = netloc.rpartition('@')
        user = userinfo.partition(':')[0]
        netloc = '%s:%s@%s' % (user, MASK, hostport)
    query = parts.query
    if query:
        pairs = parse.parse_qsl(query, keep_blank_values=True)
        if any(key.lower() in SECRET_PARAMETERS for key, _ in pairs):
            query = parse.urlencode(
                [(key, MASK if key.lower() in SECRET_PARAMETERS else value)
                 for key, value in pairs], safe='*/:')
    return parse.urlunsplit(parts._replace(netloc=netloc, query=query))
