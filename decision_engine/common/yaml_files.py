"""Reading the YAML (or JSON, a subset of YAML) files an operator writes.

:func:`load` turns every way such a file can be wrong into one
:class:`DocumentError` of one line: unreadable, not UTF-8, not valid YAML
(with the line), a key given twice in one mapping (PyYAML would keep the
last one silently), or nested too deeply to be read. The caller adds what
the file is for and checks the shape of what it got.
"""

import yaml


class DocumentError(ValueError):
    """The file cannot be read as a document; one line says why."""


# NOTE: libyaml's parser when PyYAML has it: four times faster on a large
# inventory than the pure-Python one.
_BASE: type = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


class _StrictLoader(_BASE):
    """A safe loader that refuses a key given twice in a mapping."""


def _mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:       # an unhashable key: the base class says so
            break
        if duplicate:
            line = key_node.start_mark.line + 1
            raise DocumentError('key %r appears twice in one mapping at '
                                'line %d' % (key, line))
    return _BASE.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(path):
    """The document in the file at ``path`` (None for an empty file).

    :raises DocumentError: one line, without the path (the caller names
        the file and what it is for).
    """
    try:
        with open(path, 'rb') as handle:
            raw = handle.read()
    except OSError as exc:
        raise DocumentError('cannot be read: %s' % (exc.strerror or exc))
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise DocumentError('not UTF-8 text (byte %d)' % exc.start)
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        where = ' at line %d' % (mark.line + 1) if mark else ''
        problem = getattr(exc, 'problem', None) or str(exc)
        raise DocumentError('not valid YAML%s: %s'
                            % (where, ' '.join(str(problem).split())))
    except RecursionError:
        raise DocumentError('nested too deeply to be read')
