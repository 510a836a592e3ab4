"""Checking a JSON document against a JSON schema, for one-line errors."""

import jsonschema


def first_error(schema, document):
    """The most relevant violation of ``schema`` in ``document``.

    :returns: ``(where, message)``: the dotted path of the bad field
        (``''`` for the document itself) and jsonschema's message; or None
        when the document is valid.
    """
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is None:
        return None
    return '.'.join(str(p) for p in error.absolute_path), error.message
