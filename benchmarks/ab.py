"""A/B: one benchmark on two commits, alternately, reported as ratios.

    python -m benchmarks.ab --base db16890 [--head HEAD] [--runs 3] \\
        -- model_build --hosts 5000 --instances 100000 --latency-ms 0 \\
        --sequential skip

``--base`` and ``--head`` each name a commit (checked out, detached, in a
temporary git worktree that is removed at the end) or a directory that
already holds a tree (another worktree, or this checkout with its
uncommitted changes). ``--head`` defaults to the tree this module is in.

The benchmark (a module of ``benchmarks``, with its own arguments after
``--``) runs ``--runs`` times in each tree, the two trees taking turns in
the order base, head, head, base, base, head, ... so that a machine that
slows down or speeds up during the runs weighs on both alike. Each run is a
process of its own (``python -m benchmarks.NAME`` with the tree as working
directory and first on ``PYTHONPATH``, this interpreter and its
virtualenv, and the environment this process started with), so each tree
runs its own benchmark and its own engine as it would alone, and peak
figures such as ``rss_mb`` are per run. A failed run stops the
comparison with the end of its output.

Figures are the numbers of the JSON object a benchmark prints last
(:func:`benchmarks._report.emit`); nested objects give dotted names
(``by_usage_source.placement.wall_s``). For each figure both trees print,
the output gives the median and the range of each side and the ratio
``head median / base median``: ``1.28`` means head is 28 % higher.
``--figures rss_mb,cpu_s`` keeps only those; as with every benchmark, the
last output line is the whole result as JSON.
"""

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile

from benchmarks import _report

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _started_with():
    """The environment this process was started with.

    NOTE: ``benchmarks`` imports ``decision_engine``, which sets
    ``EVENTLET_NO_GREENDNS`` in ``os.environ`` before this module runs;
    handed down, it would spare an older commit the dnspython import it
    pays when run alone (15 MB of RSS at db16890). Each side must run in
    the environment its benchmark would have had, so the runs get the
    one this process started with (Linux's ``/proc/self/environ``; where
    that cannot be read, ``os.environ``).
    """
    try:
        with open('/proc/self/environ', 'rb') as f:
            raw = f.read()
    except OSError:
        return dict(os.environ)
    env = {}
    for item in raw.split(b'\0'):
        key, sep, value = item.partition(b'=')
        if sep and key:
            env[os.fsdecode(key)] = os.fsdecode(value)
    return env


def order(runs):
    """``[(round, side)]``: the sides in turn, base first, ABBA..."""
    sides = []
    for i in range(runs):
        pair = ('base', 'head') if i % 2 == 0 else ('head', 'base')
        sides.extend((i, side) for side in pair)
    return sides


def figures(result, prefix=''):
    """``{dotted name: number}`` of a benchmark's result (booleans, text
    and lists are not figures)."""
    found = {}
    for key, value in result.items():
        name = prefix + key
        if isinstance(value, dict):
            found.update(figures(value, name + '.'))
        elif isinstance(value, (int, float)) and \
                not isinstance(value, bool):
            found[name] = value
    return found


def compare(base_runs, head_runs, wanted=None):
    """Per figure in both sides' runs: medians, ranges and the ratio.

    :param base_runs: the figures (:func:`figures`) of each base run.
    :param head_runs: the same for head.
    :param wanted: figure names to keep (None: all).
    """
    names = set.intersection(*(set(r) for r in base_runs + head_runs))
    if wanted:
        names &= set(wanted)
    table = {}
    for name in sorted(names):
        base = [r[name] for r in base_runs]
        head = [r[name] for r in head_runs]
        base_median = statistics.median(base)
        head_median = statistics.median(head)
        if base_median:
            ratio = round(head_median / base_median, 3)
        else:
            ratio = 1.0 if head_median == base_median else None
        table[name] = {
            'base': base_median, 'head': head_median, 'ratio': ratio,
            'base_range': [min(base), max(base)],
            'head_range': [min(head), max(head)]}
    return table


def _git(cwd, *args):
    proc = subprocess.run(['git', '-C', cwd] + list(args),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError('git %s: %s' % (' '.join(args),
                                           proc.stderr.strip()))
    return proc.stdout.strip()


@contextlib.contextmanager
def tree(spec, repo=HERE):
    """``(directory, description)`` of a tree for ``spec``: the directory
    itself, or a temporary detached worktree of commit ``spec``."""
    if os.path.isdir(spec):
        path = os.path.abspath(spec)
        try:
            what = _git(path, 'describe', '--always', '--dirty')
        except (OSError, RuntimeError):
            what = 'not a git tree'
        yield path, '%s (%s)' % (path, what)
        return
    commit = _git(repo, 'rev-parse', '--verify', spec + '^{commit}')
    path = tempfile.mkdtemp(prefix='ab-%s-' % commit[:7])
    _git(repo, 'worktree', 'add', '--detach', path, commit)
    try:
        yield path, '%s (%s)' % (spec, commit[:10])
    finally:
        _git(repo, 'worktree', 'remove', '--force', path)


def run_once(path, benchmark, args):
    """The result of one run of ``benchmarks.<benchmark>`` in ``path``."""
    env = _started_with()
    env['PYTHONPATH'] = os.pathsep.join(
        [path] + [p for p in [env.get('PYTHONPATH')] if p])
    proc = subprocess.run(
        [sys.executable, '-m', 'benchmarks.' + benchmark] + list(args),
        cwd=path, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise RuntimeError('benchmarks.%s failed in %s (status %d):\n%s'
                           % (benchmark, path, proc.returncode,
                              '\n'.join(tail)))
    return _report.parse(proc.stdout)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if '--' not in argv:
        argv.append('--')
    split = argv.index('--')
    p = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        usage='python -m benchmarks.ab --base COMMIT [--head COMMIT|DIR] '
              '[--runs N] [--figures A,B] -- BENCHMARK [ARGS...]')
    p.add_argument('--base', required=True,
                   help='commit or tree directory to compare against')
    p.add_argument('--head', default=HERE,
                   help='commit or tree directory (default: this tree)')
    p.add_argument('--runs', type=int, default=3,
                   help='runs of each side (default 3)')
    p.add_argument('--figures', default='',
                   help='comma-separated figure names to report')
    args = p.parse_args(argv[:split])
    rest = argv[split + 1:]
    if not rest or rest[0].startswith('-'):
        p.error('name a benchmark after "--", e.g. -- model_build')
    if args.runs < 1:
        p.error('--runs must be >= 1')
    benchmark, bench_args = rest[0], rest[1:]
    wanted = [f for f in args.figures.split(',') if f]
    try:
        base, head, runs = _run(args, benchmark, bench_args, wanted)
    except (RuntimeError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    table = compare(runs['base'], runs['head'], wanted)
    print('%-44s %22s %22s %7s' % ('figure (median [min, max])', 'base',
                                   'head', 'ratio'), file=sys.stderr)
    for name, row in table.items():
        print('%-44s %22s %22s %7s' % (
            name, _cell(row['base'], row['base_range']),
            _cell(row['head'], row['head_range']), row['ratio']),
            file=sys.stderr)
    # NOTE: like every benchmark, the whole result as JSON on the last
    # line (the readable table above is on stderr).
    print(json.dumps({
        'benchmark': benchmark, 'arguments': bench_args,
        'base': base, 'head': head, 'runs': args.runs,
        'figures': table}, sort_keys=True))
    return 0


def _run(args, benchmark, bench_args, wanted):
    """``(base description, head description, {side: [figures]})``."""
    with tree(args.base) as base, tree(args.head) as head:
        trees = {'base': base, 'head': head}
        runs = {'base': [], 'head': []}
        for i, side in order(args.runs):
            print('[%d/%d] %s: %s' % (i + 1, args.runs, side,
                                      trees[side][1]), file=sys.stderr)
            result = run_once(trees[side][0], benchmark, bench_args)
            runs[side].append(figures(result))
            if wanted:
                print('    ' + ', '.join(
                    '%s %s' % (f, runs[side][-1].get(f)) for f in wanted),
                    file=sys.stderr)
    return base[1], head[1], runs


def _cell(median, span):
    if span[0] == span[1]:
        return '%.6g' % median
    return '%.6g [%.6g, %.6g]' % (median, span[0], span[1])


if __name__ == '__main__':
    sys.exit(main())
