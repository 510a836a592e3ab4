"""Validating every option at start-up.

oslo.config checks a value only when it is first read. The engine reads
every registered option once at start-up so that a wrong type, a value out
of range or an unknown choice stops it at once, with one line naming the
option and the value, instead of failing later inside a worker.
"""

import glob
import logging
import os
import re

from oslo_config import cfg

LOG = logging.getLogger(__name__)


class InvalidOption(ValueError):
    """An option has a value it cannot take."""


def check_all(conf):
    """Read every registered option of ``conf``.

    :raises InvalidOption: naming the first bad option and its value.
    """
    for group_name, name in _all_options(conf):
        holder = conf if group_name is None else conf[group_name]
        try:
            getattr(holder, name)
        except (ValueError, cfg.Error) as exc:
            raw = _raw_value(conf, group_name, name)
            reason = _reason(exc)
            if _is_secret(group_name, name):
                # NOTE: a secret's value (a password, a URL with one) is
                # never echoed, not even inside the reason.
                if raw is not None:
                    reason = reason.replace(raw, '***')
                shown = '(secret, not shown)'
            else:
                shown = repr(raw) if raw is not None else '(as configured)'
            raise InvalidOption(
                'invalid value %s for option [%s] %s: %s'
                % (shown, group_name or 'DEFAULT', name, reason))


def _is_secret(group, name):
    """Whether the option is ``secret=True``; unknown counts as secret.

    The definitions come from the engine's own option list (the one
    oslo-config-generator reads, keystoneauth's options included):
    oslo.config itself has no public accessor for a registered option's
    definition. NOTE: other libraries' lists are not loaded here: importing
    them has side effects (oslo.service's selects its eventlet backend),
    so the options of oslo.log and the other libraries count as secret.
    """
    from decision_engine.conf import opts as opts_mod

    wanted = group or 'DEFAULT'
    for listed_group, opts in opts_mod.list_opts():
        if _group_name(listed_group) != wanted:
            continue
        for opt in opts:
            if name in (opt.dest, opt.name):
                return bool(opt.secret)
    return True


def _group_name(group):
    if group is None:
        return 'DEFAULT'
    return getattr(group, 'name', group)


def guard_reloads(conf, register_opts):
    """Make ``conf.mutate_config_files()`` refuse config files with a bad
    value, instead of applying them.

    oslo.config mutates first and validates when a value is read: a typo in
    a mutable option would make every later read raise, in every periodic
    task. Whoever reloads (oslo.service's eventlet launcher, cotyledon's
    parent, the threading worker's SIGHUP handler) calls
    ``mutate_config_files`` on this object, so the check wraps it: the files
    are parsed into a scratch ``ConfigOpts`` (options registered by
    ``register_opts``) and checked whole first. On a bad value nothing
    changes and one line is logged.

    :returns: the wrapped ``mutate_config_files``.
    """
    # NOTE: oslo.config has no hook that runs before a mutation (its mutate
    # hooks run after the new values are applied), so the instance's method
    # is wrapped. Every reloader calls it on this object; if one stopped
    # doing so, the daemon's "SIGHUP with a bad value keeps the running
    # config" test fails on that backend.
    original = conf.mutate_config_files

    def mutate_config_files():
        problem = check_files(conf, register_opts)
        if problem:
            LOG.log(mutate_config_files.refusal_level,
                    'Configuration not reloaded, keeping the running '
                    'values: %s', problem)
            return {}
        return original()

    mutate_config_files.refusal_level = logging.ERROR
    conf.mutate_config_files = mutate_config_files
    return mutate_config_files


def set_refusal_level(conf, level):
    """Log a refused reload of ``conf`` at ``level`` in this process.

    Where two processes reload the same files (the threading backend's
    launcher and its worker), only one of them should say so at ERROR:
    an operator reads one clear error per SIGHUP, not two.
    """
    guarded = conf.mutate_config_files
    if hasattr(guarded, 'refusal_level'):
        guarded.refusal_level = level


def check_files(conf, register_opts):
    """The problem with ``conf``'s config files as they are now, or None."""
    scratch = cfg.ConfigOpts()
    register_opts(scratch)
    try:
        scratch([], project=conf.project, prog=conf.prog,
                default_config_files=list(conf.config_file or []),
                default_config_dirs=list(conf.config_dir or []))
        check_all(scratch)
    except (cfg.Error, InvalidOption) as exc:
        return describe(exc)
    return None


def _all_options(conf):
    for key in sorted(conf.keys()):
        if isinstance(conf[key], cfg.ConfigOpts.GroupAttr):
            for name in sorted(conf[key].keys()):
                yield key, name
        else:
            yield None, key


def _raw_value(conf, group, name):
    """The value as written in the config files (None if none sets it),
    for the error message.

    The files are read again with oslo.config's public parser (the last
    file that sets the option wins, as when oslo.config parsed them).
    """
    found = None
    for path in _config_files(conf):
        sections = {}
        try:
            cfg.ConfigParser(path, sections).parse()
        except (OSError, cfg.Error, ValueError):
            continue
        values = sections.get(group or 'DEFAULT', {}).get(name)
        if values:
            found = values[-1]
    return found


def _config_files(conf):
    """The files oslo.config read, in its order: files, then dirs."""
    files = list(conf.config_file or [])
    dirs = conf.config_dir or []
    for directory in [dirs] if isinstance(dirs, str) else dirs:
        files.extend(sorted(glob.glob(os.path.join(directory, '*.conf'))))
    return files


_ORACLE_MESSAGE = re.compile(
    r"Value for option (?P<name>\S+) from LocationInfo\(.*?"
    r"(?:detail='(?P<where>[^']*)')?\) is not valid: (?P<reason>.*)")


def _reason(exc):
    text = ' '.join(str(exc).split())
    # oslo.config says "Value for option X from LocationInfo(...) is not
    # valid: <reason>"; keep the reason only.
    match = _ORACLE_MESSAGE.match(text)
    return match.group('reason') if match else text


def describe(exc):
    """One line for an error oslo.config raised while parsing."""
    text = ' '.join(str(exc).split())
    match = _ORACLE_MESSAGE.match(text)
    if not match:
        return text
    return 'invalid value for option %s%s: %s' % (
        match.group('name'),
        ' in %s' % match.group('where') if match.group('where') else '',
        match.group('reason'))
