"""Collections of the Qdrant Edge front: one Edge shard per collection under the data directory."""
import json
import os
import shutil
import threading

import qdrant_edge as qe

import convert as cv


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


class Store:
    def __init__(self, root):
        self.root = root
        self.lock = threading.Lock()
        self.collections = {}
        os.makedirs(root, exist_ok=True)
        for name in sorted(os.listdir(root)):
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
        c = self.collections.get(name)
        if c is None:
            raise HttpError(404, f"Not found: Collection `{name}` doesn't exist!")
        return c

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
