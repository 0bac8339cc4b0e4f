"""Simulated users of `python -m bench table` (bench/loadtest.py), run by locust in its own venv.

The plan (JSON, path in JPK_LOCUST_PLAN) lists API tokens: teachers with a draft course whose
files all passed their checks, and county admins with pending entries they may recommend.
Teachers upload a small file (tus: creation POST, one PATCH), list their courses, and submit and
withdraw their course in turn; admins list their desk's entries (the API list, the default page,
and a search) and recommend an entry, then undo it. Every request counts: any answer other than
the expected one is an error.

The users are ``FastHttpUser`` (geventhttpclient): locust runs on the same 2 cores as the server,
and the default ``HttpUser`` (requests) costs the client several times the CPU per request, which
the server's latency would then pay for.
"""

import base64
import itertools
import json
import os
import random

from locust import FastHttpUser, between, task

PLAN = json.loads(open(os.environ["JPK_LOCUST_PLAN"], encoding="utf-8").read())
TEACHERS = itertools.cycle(PLAN["teachers"])
ADMINS = itertools.cycle(PLAN["admins"])
TEACHER_SHARE = PLAN["teacher_share"]
BODY = os.urandom(64 * 1024)
# Each upload's bytes differ (a fresh 16-byte head): with one body for every upload of a run, each
# file's originality check (queued after its probe) found every earlier upload as an exact copy and
# recorded up to originality.services.MAX_CANDIDATES matches, ~200 queries per file, rising over the
# run's ~1,950 uploads: load on the task worker and PostgreSQL that real teachers' files never cause.
HEAD = 16


def body() -> bytes:
    return os.urandom(HEAD) + BODY[HEAD:]


class Teacher(FastHttpUser):
    weight = TEACHER_SHARE
    wait_time = between(1, 3)

    def on_start(self):
        me = next(TEACHERS)
        self.headers = {"Authorization": f"Bearer {me['token']}"}
        self.course = me["course"]
        self.submitted = False

    @task(3)
    def upload(self):
        tus = {**self.headers, "Tus-Resumable": "1.0.0"}
        data = body()
        meta = "filename " + base64.b64encode("教学设计.pdf".encode()).decode()
        with self.client.post("/api/v1/uploads/", headers={**tus, "Upload-Length": str(len(data)),
                                                            "Upload-Metadata": meta},
                              name="tus: creation POST", catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"HTTP {r.status_code}")
                return
            location = r.headers["Location"]
        with self.client.patch(location, data=data, name="tus: PATCH 64 KiB", catch_response=True,
                               headers={**tus, "Upload-Offset": "0",
                                        "Content-Type": "application/offset+octet-stream"}) as r:
            if r.status_code != 204:
                r.failure(f"HTTP {r.status_code}")

    @task(2)
    def my_courses(self):
        self.client.get("/api/v1/courses", headers=self.headers, name="api: my courses")

    @task(1)
    def submit_or_withdraw(self):
        action = "withdraw" if self.submitted else "submit"
        with self.client.post(f"/api/v1/courses/{self.course}/{action}", headers=self.headers,
                              name=f"api: course {action}", catch_response=True) as r:
            if r.status_code == 200:
                self.submitted = not self.submitted
            else:
                r.failure(f"HTTP {r.status_code}: {r.text[:200]}")


class CountyAdmin(FastHttpUser):
    weight = 100 - TEACHER_SHARE
    wait_time = between(1, 3)

    def on_start(self):
        me = next(ADMINS)
        self.headers = {"Authorization": f"Bearer {me['token']}"}
        self.entries = list(me["entries"])
        self.campaign = PLAN["campaign"]

    @task(4)
    def desk(self):
        self.client.get(f"/api/v1/selection/entries?campaign={self.campaign}", headers=self.headers,
                        name="api: desk entries")

    @task(1)
    def search(self):
        self.client.get(f"/api/v1/selection/entries?campaign={self.campaign}&q=分数", headers=self.headers,
                        name="api: desk search")

    @task(2)
    def recommend_and_undo(self):
        if not self.entries:
            return
        entry = random.choice(self.entries)
        for action in ("recommend", "undo"):
            with self.client.post(f"/api/v1/selection/entries/{entry}/{action}", json={}, headers=self.headers,
                                  name=f"api: entry {action}", catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f"HTTP {r.status_code}: {r.text[:200]}")
                    return
