"""A stand-in for Mozart's Elasticsearch/OpenSearch job-status index
(`job_status-current`), which is not packaged here: a loopback HTTP server
that answers the one search HySDS's worker sends before a job with
job_info.dedup runs (hysds.utils.query_dedup_job), and refuses anything else
with a 400 naming what differed, so a test that sends another body fails.

It holds status documents as Logstash indexes them (id = payload id, with
uuid, payload_hash, status and job.job_info.time_queued)."""

import urllib.parse

from loopback_http import LoopbackServer

INDEX = "job_status-current"
SEARCH_PARAMS = {"ignore_unavailable": ["true"], "allow_no_indices": ["true"],
                 "expand_wildcards": ["open"]}


def hysds_dedup_query(payload_hash, filter_id, states):
    """The body query_dedup_job builds (HySDS's code, restated)."""
    query = {
        "sort": [{"job.job_info.time_queued": {"order": "asc"}}],
        "size": 1,
        "_source": ["_id", "status"],
        "query": {
            "bool": {
                "must": [
                    {"term": {"payload_hash": payload_hash}},
                    {"bool": {"should": [{"terms": {"status": states}}]}},
                ]
            }
        },
    }
    if filter_id is not None:
        query["query"]["bool"]["must_not"] = {"term": {"uuid": filter_id}}
    return query


class JobStatusIndex:
    def __init__(self, exists=True, fail_with=None):
        self.docs = []
        self.exists = exists
        self.fail_with = fail_with  # an HTTP status to answer every search with
        self.server = LoopbackServer(self._answer)
        self.url = self.server.url

    def add(self, doc_id, uuid, payload_hash, status, time_queued="2024-01-01T00:00:00.000000Z"):
        self.docs.append({"_id": doc_id, "uuid": uuid, "payload_hash": payload_hash,
                          "status": status, "time_queued": time_queued})

    def searches(self):
        return self.server.seen()

    def _answer(self, request):
        url = urllib.parse.urlsplit(request.path)
        if request.method != "POST" or url.path != f"/{INDEX}/_search":
            return 400, {"error": f"unexpected {request.method} {request.path}"}
        if urllib.parse.parse_qs(url.query) != SEARCH_PARAMS:
            return 400, {"error": f"unexpected parameters {url.query}"}
        if self.fail_with:
            return self.fail_with, {"error": "stand-in failure", "status": self.fail_with}
        if not self.exists:
            return 404, {"error": {"type": "index_not_found_exception",
                                   "reason": f"no such index [{INDEX}]"}, "status": 404}
        body = request.json()
        try:
            payload_hash = body["query"]["bool"]["must"][0]["term"]["payload_hash"]
            states = body["query"]["bool"]["must"][1]["bool"]["should"][0]["terms"]["status"]
            filter_id = body["query"]["bool"].get("must_not", {}).get("term", {}).get("uuid")
        except (KeyError, IndexError, TypeError):
            return 400, {"error": "not HySDS's dedup query"}
        if body != hysds_dedup_query(payload_hash, filter_id, states):
            return 400, {"error": "not HySDS's dedup query"}
        hits = sorted((d for d in self.docs if d["payload_hash"] == payload_hash and
                       d["status"] in states and d["uuid"] != filter_id),
                      key=lambda d: d["time_queued"])
        return 200, {
            "took": 1, "timed_out": False,
            "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": None,
                     "hits": [{"_index": "job_status-2024.01.01", "_id": d["_id"], "_score": None,
                               "_source": {"status": d["status"]}, "sort": [0]}
                              for d in hits[:1]]}}

    def close(self):
        self.server.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
