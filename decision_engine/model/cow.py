"""A dict split into shards that are shared between snapshots.

:class:`ShardedMap` is a ``MutableMapping`` whose items live in a fixed
number of plain dicts (shards, by a hash of the key that does not change
between processes, so iteration order is the same in every run).
:meth:`ShardedMap.snapshot` copies only the list of shards: both maps then
share every shard, and the first write to a shard by either one copies
that shard alone. A snapshot costs O(shards) and a write after it
O(items / shards): the cost follows the changes, not the size.
"""

import collections.abc
import zlib

SHARDS = 256
_MASK = SHARDS - 1


def _shard_of(key):
    if isinstance(key, str):
        return zlib.crc32(key.encode('utf-8', 'surrogatepass')) & _MASK
    return hash(key) & _MASK


class ShardedMap(collections.abc.MutableMapping):

    __slots__ = ('_shards', '_owned', '_len')

    def __init__(self, items=()):
        self._shards = [{} for _ in range(SHARDS)]
        self._owned = bytearray(b'\x01' * SHARDS)
        self._len = 0
        for key, value in (items.items() if hasattr(items, 'items')
                           else items):
            self[key] = value

    def snapshot(self):
        """A map equal to this one, sharing its shards (copy on write)."""
        new = ShardedMap.__new__(ShardedMap)
        new._shards = list(self._shards)
        new._owned = bytearray(SHARDS)
        new._len = self._len
        self._owned = bytearray(SHARDS)
        return new

    def _writable(self, key):
        i = _shard_of(key)
        if not self._owned[i]:
            self._shards[i] = dict(self._shards[i])
            self._owned[i] = 1
        return self._shards[i]

    def __getitem__(self, key):
        return self._shards[_shard_of(key)][key]

    def get(self, key, default=None):
        return self._shards[_shard_of(key)].get(key, default)

    def __contains__(self, key):
        return key in self._shards[_shard_of(key)]

    def __setitem__(self, key, value):
        shard = self._writable(key)
        if key not in shard:
            self._len += 1
        shard[key] = value

    def __delitem__(self, key):
        shard = self._shards[_shard_of(key)]
        if key not in shard:
            raise KeyError(key)
        del self._writable(key)[key]
        self._len -= 1

    def pop(self, key, *default):
        if key in self:
            value = self[key]
            del self[key]
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def __iter__(self):
        for shard in self._shards:
            yield from shard

    def values(self):
        return _Values(self)

    def items(self):
        return _Items(self)

    def __len__(self):
        return self._len

    def __eq__(self, other):
        if isinstance(other, ShardedMap):
            return self._len == other._len and all(
                a is b or a == b
                for a, b in zip(self._shards, other._shards))
        if isinstance(other, collections.abc.Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable: unhashable

    def __repr__(self):
        return 'ShardedMap(%d items)' % self._len


class _Values(collections.abc.ValuesView):
    __slots__ = ()

    def __iter__(self):
        for shard in self._mapping._shards:
            yield from shard.values()


class _Items(collections.abc.ItemsView):
    __slots__ = ()

    def __iter__(self):
        for shard in self._mapping._shards:
            yield from shard.items()
