"""The moderators' web UI over plain HTTP, as a forged request would reach it: every form that changes
something carries the session's CSRF token, and a POST without it, with a wrong one or from another site
changes nothing (sign-in, sign-out, decision, appeal, bulk rejection); a territory moderator sees and
reaches nothing of another territory on any page, whatever the URL asks."""

import secrets
from contextlib import closing

import httpx

from tests.harness import wait_for
from tests.security.support import CSRF_INPUT, PASSWORD, POST_FORM, create_moderator, sign_in, strict_territory


def test_every_form_carries_the_csrf_token_and_a_post_without_it_changes_nothing(stack):
    territory, key, ids = strict_territory(stack, "csrf", [
        "Former les agents à l'usage des outils numériques avant tout achat.",
        "Publier chaque année la liste des algorithmes utilisés par la commune."])
    login = create_moderator(stack, f"csrf-{secrets.token_hex(3)}", territory)
    with closing(sign_in(stack, login)) as client:
        # every POST form of every page carries the token of this session, and only it
        tokens = set()
        for path in ("/", "/queue", "/log", f"/contributions/{ids[0]}"):
            page = client.get(path)
            assert page.status_code == 200, (path, page.status_code)
            forms = POST_FORM.findall(page.text)
            assert forms, f"no form on {path}"  # at least the sign-out form
            for form in forms:
                found = CSRF_INPUT.findall(form)
                assert len(found) == 1 and found[0], (path, form[:200])
                tokens.update(found)
        assert len(tokens) == 1
        token = tokens.pop()

        posts = [
            (f"/contributions/{ids[0]}/decide", {"action": "publish"}),
            (f"/contributions/{ids[0]}/decide", {"action": "reject", "ground": "spam"}),
            (f"/contributions/{ids[1]}/appeal", {"reason": "Une décision à revoir."}),
            ("/queue/reject-spam", {"ids": ids}),
            ("/logout", {}),
        ]
        forged = [
            ({}, {}),                                               # no token
            ({"csrf_token": token[::-1]}, {}),                      # a wrong token
            ({"csrf_token": ""}, {}),                               # an empty one
            ({"csrf_token": token}, {"Origin": "https://evil.example"}),   # the right token, from another site
            ({"csrf_token": token}, {"Referer": "https://evil.example/page"}),
            ({"csrf_token": token}, {"Origin": "null"}),            # a sandboxed frame or a data: page
        ]
        for path, form in posts:
            for extra, headers in forged:
                response = client.post(path, data={**form, **extra}, headers=headers)
                assert response.status_code == 403, (path, extra, headers, response.status_code)
        assert {stack.status(key, cid)["status"] for cid in ids} == {"held"}
        assert client.get("/queue").status_code == 200  # still signed in: the forged sign-out did nothing

        # the same form, posted from this site with its token, goes through
        done = client.post(f"/contributions/{ids[0]}/decide", data={"action": "publish", "csrf_token": token},
                           headers={"Origin": stack.url("moderation")})
        assert done.status_code == 303, done.text
        wait_for(lambda: stack.status(key, ids[0])["status"] == "published", 60, what="the published decision")
        assert stack.status(key, ids[1])["status"] == "held"


def test_the_sign_in_form_is_protected_too(stack):
    login = create_moderator(stack, f"csrf-login-{secrets.token_hex(3)}")
    with httpx.Client(base_url=stack.url("moderation"), timeout=30) as client:
        token = CSRF_INPUT.search(client.get("/login").text).group(1)
        credentials = {"login": login, "password": PASSWORD, "next": "/queue"}
        assert client.post("/login", data=credentials).status_code == 403
        assert client.post("/login", data={**credentials, "csrf_token": token[::-1]}).status_code == 403
        assert client.post("/login", data={**credentials, "csrf_token": token},
                           headers={"Origin": "https://evil.example"}).status_code == 403
        assert not client.cookies.get("palabre_session")
    # the token must match the cookie the login page set: a token alone (from another browser) is refused
    bare = httpx.post(f"{stack.url('moderation')}/login", data={**credentials, "csrf_token": token}, timeout=30)
    assert bare.status_code == 403 and "palabre_session" not in bare.cookies


def test_a_territory_moderator_sees_nothing_of_another_territory_on_any_page(stack):
    mine, _, my_ids = strict_territory(stack, "scope-mine", ["Associer les agents au choix des outils."])
    other, other_key, other_ids = strict_territory(stack, "scope-other", [
        "Texte confidentiel d'un autre territoire sur la vidéosurveillance."])
    login = create_moderator(stack, f"scope-{secrets.token_hex(3)}", mine)
    with closing(sign_in(stack, login)) as client:
        queue = client.get("/queue")
        assert "Associer les agents" in queue.text and my_ids[0] in queue.text
        for path in ("/", "/queue", f"/queue?territory={other}", "/queue?queue=appeals",
                     f"/queue?queue=appeals&territory={other}", "/queue?queue=reported", "/log",
                     f"/log?territory={other}", f"/contributions/{my_ids[0]}"):
            page = client.get(path)
            assert page.status_code == 200, (path, page.status_code)
            assert other_ids[0] not in page.text and "confidentiel" not in page.text, path
            if other not in path:  # (the language links repeat the URL asked for)
                assert other not in page.text, path
        assert client.get(f"/contributions/{other_ids[0]}").status_code == 404
        skipped = client.get(f"/contributions/{other_ids[0]}/next")  # on to the next of the moderator's own queue
        assert skipped.status_code == 303 and other_ids[0] not in skipped.headers["location"]
        assert other not in skipped.headers["location"]
        token = CSRF_INPUT.search(client.get("/queue").text).group(1)
        decided = client.post(f"/contributions/{other_ids[0]}/decide", data={"action": "publish", "csrf_token": token})
        assert decided.status_code == 404
        appealed = client.post(f"/contributions/{other_ids[0]}/appeal", data={"reason": "x", "csrf_token": token})
        assert appealed.status_code == 404
        bulk = client.post("/queue/reject-spam", data={"ids": other_ids, "csrf_token": token})
        assert bulk.status_code == 303 and "n=0" in bulk.headers["location"]
    assert stack.status(other_key, other_ids[0])["status"] == "held"
