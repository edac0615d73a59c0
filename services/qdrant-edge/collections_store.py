"""Collections of the Qdrant Edge front: one Edge shard per collection under the data directory."""
import json
import os
import re
import shutil
import threading

import qdrant_edge as qe

import convert as cv


# The names this front accepts for collections and aliases: they become directory names (or sit
# beside them), so stricter than Qdrant's own rule (no < > : " / \\ | ? * NUL U+001F, 1-255 chars).
NAME_OK = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,254}$")


class HttpError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


# The distributed layout a collection is created with (CreateCollection in Qdrant's OpenAPI: each
# an optional uint32, minimum 1). This front has one shard and no peers: it validates the values as
# Qdrant does, keeps them and reports them in the collection's config, like a single-node Qdrant,
# which also accepts them (it creates that many local shards; replicas wait for peers).
LAYOUT_FIELDS = ("shard_number", "replication_factor", "write_consistency_factor")
UINT32_MAX = 4294967295


def layout_of(body):
    """The layout fields of a create body, validated; raises HttpError naming the field and limit."""
    layout = {}
    for field in LAYOUT_FIELDS:
        value = body.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value > UINT32_MAX:
            raise HttpError(400, f"Format error in JSON body: {field}: invalid value {json.dumps(value)}, "
                                 f"expected u32 at line 1")
        if value < 1:
            raise HttpError(422, f"Validation error in JSON body: [{field}: value {value} invalid, must be 1 or larger]")
        layout[field] = value
    return layout


class Collection:
    """One Edge shard and the creation parameters the shard itself does not report."""

    def __init__(self, path, params, shard, layout=None):
        self.path = path
        self.params = params  # {"size": int, "distance": str}
        self.layout = {f: 1 for f in LAYOUT_FIELDS} | (layout or {})
        self.shard = shard
        self.lock = threading.Lock()  # one writer or reader at a time: simple and obviously safe
        self.ops = 0

    def update(self, operation, wait):
        with self.lock:
            self.shard.update(operation)
            if wait:
                self.shard.flush()
            self.ops += 1
            return {"operation_id": self.ops, "status": "completed" if wait else "acknowledged"}


# Aliases live in one JSON file beside the collection directories; its leading dot keeps it out of
# the collection names (NAME_OK refuses a leading dot).
ALIASES_FILE = ".aliases.json"


class Store:
    def __init__(self, root):
        self.root = root
        self.lock = threading.Lock()
        self.collections = {}
        # alias -> collection. Replaced, never mutated: a reader that took the dict sees one
        # consistent mapping (the old or the new one), never an alias half-moved.
        self.aliases = {}
        os.makedirs(root, exist_ok=True)
        alias_path = os.path.join(root, ALIASES_FILE)
        if os.path.exists(alias_path):
            with open(alias_path, encoding="utf-8") as f:
                self.aliases = dict(json.load(f))
        for name in sorted(os.listdir(root)):
            if name.startswith(".") or not os.path.isdir(os.path.join(root, name)):
                continue  # the alias file and its temporary file
            meta = os.path.join(root, name, "collection.json")
            if not os.path.exists(meta):
                # A create that died before it finished: the collection never existed.
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
                continue
            with open(meta, encoding="utf-8") as f:
                saved = json.load(f)
            params = {"size": saved["size"], "distance": saved["distance"]}
            shard = qe.EdgeShard.load(os.path.join(root, name, "shard"))
            self.collections[name] = Collection(os.path.join(root, name), params, shard, saved.get("layout"))

    def get(self, name):
        """The collection `name` names, through an alias as Qdrant's resolve_name does."""
        c = self.collections.get(self.aliases.get(name, name))
        if c is None:
            raise HttpError(404, f"Not found: Collection `{name}` doesn't exist!")
        return c

    def exists(self, name):
        return self.aliases.get(name, name) in self.collections

    def _save_aliases(self, aliases):
        """Durably replaces the alias file (write, fsync, rename): all actions of a request or none."""
        path = os.path.join(self.root, ALIASES_FILE)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(aliases, f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dirfd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)

    def update_aliases(self, actions):
        """POST /collections/aliases: applies the actions in order to a copy, then saves and swaps
        it in. Any failing action fails the request with nothing changed (Qdrant applies them one by
        one under its lock; all-or-none here is stricter and keeps the file whole)."""
        if not isinstance(actions, list):
            raise HttpError(400, "Format error in JSON body: missing field `actions`")
        with self.lock:
            new = dict(self.aliases)
            for action in actions:
                if not isinstance(action, dict) or len(action) != 1:
                    raise HttpError(400, "Format error in JSON body: an action is one of create_alias, delete_alias, rename_alias")
                (kind, args), = action.items()
                if not isinstance(args, dict):
                    raise HttpError(400, f"Format error in JSON body: {kind}: expected an object")
                if kind == "create_alias":
                    alias, target = _name(args, "alias_name"), _name(args, "collection_name")
                    if target not in self.collections:
                        raise HttpError(404, f"Not found: Collection `{target}` doesn't exist!")
                    if alias in self.collections:
                        raise HttpError(409, f"Wrong input: Collection `{alias}` already exists!")
                    new[alias] = target  # an existing alias is replaced, as in Qdrant
                elif kind == "delete_alias":
                    new.pop(_name(args, "alias_name"), None)  # absent: nothing to do (Qdrant too)
                elif kind == "rename_alias":
                    old, renamed = _name(args, "old_alias_name"), _name(args, "new_alias_name")
                    if old not in new:
                        raise HttpError(404, f"Not found: Alias {old} does not exists!")
                    new[renamed] = new.pop(old)
                else:
                    raise HttpError(400, f"Format error in JSON body: unknown variant `{kind}`, expected one of "
                                         f"`create_alias`, `delete_alias`, `rename_alias`")
            if new != self.aliases:
                self._save_aliases(new)
                self.aliases = new
            return True

    def list_aliases(self, collection=None):
        return [{"alias_name": a, "collection_name": c} for a, c in sorted(self.aliases.items())
                if collection is None or c == collection]

    def create(self, name, body):
        vectors = body.get("vectors")
        if not isinstance(vectors, dict) or "size" not in vectors or "distance" not in vectors:
            raise cv.Unsupported("collection config: only one unnamed dense vector {size, distance}")
        if vectors["distance"] not in cv.DISTANCES:
            raise HttpError(400, f"Format error in JSON body: unknown distance {vectors['distance']!r}")
        params = {"size": int(vectors["size"]), "distance": vectors["distance"]}
        layout = layout_of(body)  # before anything is created: bad input writes nothing
        with self.lock:
            if name in self.collections:
                raise HttpError(409, f"Wrong input: Collection `{name}` already exists!")
            if name in self.aliases:
                raise HttpError(400, f"Wrong input: Can't create collection with name {name}. "
                                     f"Alias with the same name already exists")
            path = os.path.join(self.root, name)
            shutil.rmtree(path, ignore_errors=True)
            config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=params["size"], distance=cv.DISTANCES[params["distance"]]))
            shard = qe.EdgeShard.create(os.path.join(path, "shard"), config)
            shard.flush()
            tmp = os.path.join(path, "collection.json.tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(params | {"layout": layout}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, os.path.join(path, "collection.json"))
            self.collections[name] = Collection(path, params, shard, layout)

    def delete(self, name):
        with self.lock:
            # Qdrant removes the collection's aliases first (AliasPersistence.remove_collection).
            kept = {a: c for a, c in self.aliases.items() if c != name}
            if kept != self.aliases:
                self._save_aliases(kept)
                self.aliases = kept
            c = self.collections.pop(name, None)
            if c is None:
                return False
            with c.lock:
                c.shard.close()
            shutil.rmtree(c.path, ignore_errors=True)
            return True

    def close_all(self):
        with self.lock:
            for c in self.collections.values():
                with c.lock:
                    c.shard.flush()
                    c.shard.close()
            self.collections.clear()


def _name(args, field):
    value = args.get(field)
    if not isinstance(value, str):
        raise HttpError(400, f"Format error in JSON body: missing field `{field}`")
    if not NAME_OK.match(value):
        raise HttpError(422, f"Validation error in JSON body: {field} {value!r}: this front accepts "
                             f"[A-Za-z0-9_.-], 1 to 255 characters, no leading dot")
    return value


def collection_info(c):
    with c.lock:
        info = c.shard.info()
    schema = {k: {"data_type": cv.SCHEMA_NAMES.get(str(v.data_type), "keyword"), "points": v.points}
              for k, v in info.payload_schema.items()}
    return {
        "status": "green",
        "optimizer_status": "ok",
        "indexed_vectors_count": info.indexed_vectors_count,
        "points_count": info.points_count,
        "segments_count": info.segments_count,
        "config": {
            "params": {"vectors": dict(c.params), **c.layout, "on_disk_payload": True},
            # Qdrant's defaults; Edge builds HNSW only when optimize() runs.
            "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000},
            "optimizer_config": {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000,
                                 "default_segment_number": 0, "flush_interval_sec": 5},
            "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
        },
        "payload_schema": schema,
    }
