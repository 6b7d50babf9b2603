"""The moderators' web UI in a real browser: sign-in, territory scope, keyboard decisions, redaction,
bulk spam, appeals, escaping of hostile text, CSRF."""

import re
import secrets
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.harness import MODERATOR_PASSWORD as PASSWORD
from tests.harness import Stack, create_moderator, wait_for

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"




class Territory:
    """A strict territory (everything waits for a person), its moderator, and its contributions."""

    def __init__(self, stack: Stack, bodies: list[str], prefix: str = "br") -> None:
        suffix = secrets.token_hex(3)
        self.stack = stack
        self.id = f"{prefix}-{suffix}"
        self.key = stack.create_territory(self.id, "FR", moderation_mode="strict")
        self.moderator = create_moderator(stack, f"mod-{suffix}", self.id)
        response = stack.submit(self.key, {"contributions": [
            {"external_id": f"e-{i}", "kind": "proposition", "body": body} for i, body in enumerate(bodies)]})
        assert response.status_code == 202, response.text
        self.ids = [a["id"] for a in response.json()["accepted"]]
        stack.wait_final(self.key, self.ids)

    def status(self, index: int) -> dict:
        return self.stack.status(self.key, self.ids[index])

    def wait_status(self, index: int, status: str) -> dict:
        return wait_for(lambda: (s := self.status(index))["status"] == status and s,
                        what=f"contribution {index} to be {status}")


def sign_in(page, login: str) -> None:
    page.goto("/queue")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/queue$"))


def test_a_territory_moderator_sees_only_their_territory(stack, page):
    mine = Territory(stack, ["Former les agents de la métropole à l'usage de l'IA générative."])
    other = Territory(stack, ["Texte confidentiel d'un autre territoire sur les caméras."])
    sign_in(page, mine.moderator)
    expect(page.locator(".items .item")).to_have_count(1)
    expect(page.get_by_text("Former les agents de la métropole")).to_be_visible()
    expect(page.get_by_text("Texte confidentiel d'un autre territoire")).to_have_count(0)
    expect(page.locator("select[name=territory]")).to_have_count(0)
    expect(page.locator("[data-queue=appeals]")).to_have_count(0)  # appeals are the network's
    # another territory's queue and contribution cannot be reached by editing the URL
    page.goto(f"/queue?territory={other.id}")
    expect(page.get_by_text("Texte confidentiel d'un autre territoire")).to_have_count(0)
    response = page.goto(f"/contributions/{other.ids[0]}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Contribution introuvable")).to_be_visible()


def test_keyboard_opens_publishes_and_rejects_on_a_ground(stack, page):
    territory = Territory(stack, ["Publier la liste des algorithmes utilisés par la ville.",
                                  "Achetez nos montres pas chères sur www.montres-discount.example !!!"])
    sign_in(page, territory.moderator)
    expect(page.locator(".hints kbd").first).to_be_visible()
    # contributions of one batch share their reception time: the queue orders them by id
    order = page.locator(".items .item").evaluate_all("items => items.map(i => i.dataset.id)")
    first, second = (territory.ids.index(i) for i in order)
    page.keyboard.press("j")
    expect(page.locator(".items .item").first).to_have_class(re.compile("current"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/contributions/{territory.ids[first]}"))
    expect(page.locator("#publish kbd")).to_have_text("p")
    page.keyboard.press("p")
    # the decision is recorded and the next contribution of the queue opens
    expect(page).to_have_url(re.compile(f"/contributions/{territory.ids[second]}"))
    expect(page.get_by_role("status")).to_have_text("Décision enregistrée.")
    published = territory.wait_status(first, "published")
    assert published["decision"]["decided_by"] == territory.moderator
    assert published["decision"]["automated_decision"] is False

    digit = page.locator("#reject-grounds input[value=spam]").get_attribute("data-digit")
    page.keyboard.press("x")
    expect(page.locator("#reject-grounds")).to_have_class(re.compile("armed"))
    page.keyboard.press(digit)
    expect(page).to_have_url(re.compile(r"/queue\?"))
    rejected = territory.wait_status(second, "rejected")
    assert rejected["decision"]["grounds"] == ["spam"]

    page.goto("/log?people=1")
    rows = page.locator("table.log tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(territory.moderator)
    expect(rows.first).to_contain_text("rejetée")


def test_editing_a_redaction_is_checked_for_personal_data(stack, page):
    body = ("Je propose un comité d'éthique. Contactez-moi à paul.martin@example.org pour en parler, "
            "la mairie a mon accord.")
    territory = Territory(stack, [body])
    sign_in(page, territory.moderator)
    page.goto(f"/contributions/{territory.ids[0]}")
    marks = page.locator("#contribution-body mark.pii")
    expect(marks.first).to_be_visible()
    assert "".join(marks.all_text_contents()) == "paul.martin@example.org"  # the link check cuts it in two
    textarea = page.locator("#redacted-body")
    expect(textarea).to_have_value(re.compile(r"\[courriel\]"))

    page.keyboard.press("e")
    expect(textarea).to_be_focused()
    textarea.fill(textarea.input_value().replace("[courriel]", "paul.martin@example.org"))
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    expect(page.locator("#error")).to_contain_text("données personnelles")
    expect(page.locator("#leftovers mark")).to_have_text("paul.martin@example.org")
    assert territory.status(0)["status"] == "held"

    textarea = page.locator("#redacted-body")
    textarea.fill("Je propose un comité d'éthique. Contactez-moi via la plateforme, la mairie a mon accord.")
    page.get_by_role("button", name=re.compile("Publier cette version")).click()
    expect(page).to_have_url(re.compile(r"/queue\?"))
    published = territory.wait_status(0, "published-redacted")
    assert published["published_text"] == ("Je propose un comité d'éthique. Contactez-moi via la plateforme, "
                                           "la mairie a mon accord.")
    assert "paul.martin" not in str(published)


def test_a_moderator_corrects_the_axis_of_a_published_contribution(stack, page):
    territory = Territory(stack, ["Qui contrôle les modèles d'IA achetés par la ville, et qui peut les arrêter ?"])
    sign_in(page, territory.moderator)
    page.goto(f"/contributions/{territory.ids[0]}")
    expect(page.locator("#axis-now")).to_contain_text("La source n'a pas donné d'axe")
    expect(page.locator("#axis-form")).to_have_count(0)  # held: not counted on any axis yet
    page.locator("#publish").click()
    territory.wait_status(0, "published")

    page.goto(f"/contributions/{territory.ids[0]}")
    page.locator("#axis-choice").select_option("maitrise")
    page.get_by_role("button", name="Corriger l'axe").click()
    expect(page.locator(".notice")).to_contain_text("Axe corrigé")
    expect(page.locator("#axis-now")).to_contain_text("Comment en garantir la maîtrise ?")
    expect(page.locator("#axis-now")).to_contain_text(f"corrigé par {territory.moderator}")
    expect(page.locator("#audit .axis-row")).to_contain_text("non classé → Comment en garantir la maîtrise ?")
    expect(page.locator("#axis-choice")).to_have_value("maitrise")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "contribution-axis.png"), full_page=True)

    # the classifier may already have chosen the same axis: wait for the person's correction itself, which
    # can arrive before the publication it corrects and then waits for it (retried with a growing delay)
    view = wait_for(lambda: (r := httpx.get(f"{stack.url('synthesis')}/v1/contributions/{territory.ids[0]}",
                                            timeout=10)).status_code == 200 and r.json()["axis_source"] == "person"
                    and r.json(), timeout=90, what="the synthesis to follow the moderator's correction")
    assert (view["axis"], view["corrected_by"]) == ("maitrise", territory.moderator)


def test_bulk_rejection_of_obvious_spam(stack, page):
    territory = Territory(stack, [
        "Gagnez 5000 euros par semaine depuis chez vous, cliquez ici http://argent-facile.example",
        "Promo casino en ligne bonus 200% http://casino-bonus.example code PROMO",
        "Mettre en place un comité citoyen pour suivre les usages de l'IA dans les services.",
    ])
    sign_in(page, territory.moderator)
    spam = set(territory.ids[:2])
    for item_id in page.locator(".items .item").evaluate_all("items => items.map(i => i.dataset.id)"):
        page.keyboard.press("j")  # to the next contribution of the queue
        if item_id in spam:
            page.keyboard.press("s")
    expect(page.locator("#selected-count")).to_have_text("2 sélectionnée(s)")
    page.keyboard.press("Shift+S")
    expect(page.get_by_role("status")).to_have_text("2 contribution(s) rejetée(s) comme spam.")
    assert territory.wait_status(0, "rejected")["decision"]["grounds"] == ["spam"]
    assert territory.wait_status(1, "rejected")["decision"]["grounds"] == ["spam"]
    assert territory.status(2)["status"] == "held"
    expect(page.locator(".items .item")).to_have_count(1)


def test_an_appeal_is_filed_then_decided_by_a_network_moderator(stack, browser):
    territory = Territory(stack, ["Installer des capteurs dans les écoles pour mesurer la qualité de l'air."])
    network = create_moderator(stack, f"net-{secrets.token_hex(3)}")
    base = stack.url("moderation")

    local_context = browser.new_context(base_url=base)
    page = local_context.new_page()
    sign_in(page, territory.moderator)
    page.goto(f"/contributions/{territory.ids[0]}")
    page.keyboard.press("p")
    territory.wait_status(0, "published")
    page.wait_for_url(re.compile("notice=decided"))  # the decision moves on by itself: let it land first
    page.goto(f"/contributions/{territory.ids[0]}")
    page.locator("#appeal-reason").fill("L'auteur signale que son voisin est reconnaissable.")
    page.get_by_role("button", name="Déposer le recours").click()
    expect(page.get_by_role("status")).to_contain_text("Recours déposé")
    expect(page.locator("#open-appeal")).to_contain_text("son voisin est reconnaissable")
    expect(page.locator("#network-only")).to_be_visible()
    expect(page.locator("#publish-form")).to_have_count(0)
    local_context.close()

    network_context = browser.new_context(base_url=base)
    page = network_context.new_page()
    sign_in(page, network)
    page.goto(f"/queue?queue=appeals&territory={territory.id}")
    item = page.locator(".items .item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("son voisin est reconnaissable")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/contributions/{territory.ids[0]}"))
    page.locator("#facts").fill("Recours accueilli : personne reconnaissable.")
    page.keyboard.press("Escape")  # leaves the field: keys are shortcuts again
    digit = page.locator("#reject-grounds input[value=defamation]").get_attribute("data-digit")
    page.keyboard.press("x")
    page.keyboard.press(digit)
    rejected = territory.wait_status(0, "rejected")
    assert rejected["decision"]["decided_by"] == network
    assert rejected["decision"]["facts"] == "Recours accueilli : personne reconnaissable."
    page.wait_for_url(re.compile("notice=decided"))
    page.goto(f"/contributions/{territory.ids[0]}")
    expect(page.locator("#audit")).to_contain_text(f"tranché par {network}")
    network_context.close()


def test_hostile_text_is_shown_as_text_and_never_run(stack, page):
    payloads = ["<script>window.__xss = 1; alert(1)</script> Un avis sur les algorithmes.",
                "<img src=x onerror=\"window.__xss = 2; alert(2)\"> Les caméras augmentées, non merci."]
    territory = Territory(stack, payloads)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, territory.moderator)
    for view in ("/queue", f"/contributions/{territory.ids[0]}", f"/contributions/{territory.ids[1]}"):
        page.goto(view)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None
        assert page.locator("main script, main img").count() == 0
    page.goto("/queue")
    expect(page.get_by_text("<script>window.__xss = 1; alert(1)</script>", exact=False)).to_be_visible()
    expect(page.get_by_text('<img src=x onerror="window.__xss = 2; alert(2)">', exact=False)).to_be_visible()
    page.goto(f"/contributions/{territory.ids[1]}")
    expect(page.locator("#redacted-body")).to_have_value(payloads[1])
    assert dialogs == []


def test_a_post_without_the_csrf_token_or_from_another_site_is_refused(stack, page):
    territory = Territory(stack, ["Réduire la consommation énergétique des serveurs de la collectivité."])
    sign_in(page, territory.moderator)
    url = f"/contributions/{territory.ids[0]}/decide"
    without_token = page.request.post(url, form={"action": "publish"}, max_redirects=0)
    assert without_token.status == 403
    assert "Requête refusée" in without_token.text()
    page.goto(f"/contributions/{territory.ids[0]}")
    token = page.locator("#publish-form input[name=csrf_token]").input_value()
    wrong_token = page.request.post(url, form={"action": "publish", "csrf_token": token[::-1]}, max_redirects=0)
    assert wrong_token.status == 403
    foreign = page.request.post(url, form={"action": "publish", "csrf_token": token}, max_redirects=0,
                                headers={"Origin": "https://evil.example"})
    assert foreign.status == 403
    assert territory.status(0)["status"] == "held"
    # the same form from the page itself goes through
    page.keyboard.press("p")
    territory.wait_status(0, "published")


def test_language_switch_dashboard_and_sign_out(stack, page):
    territory = Territory(stack, ["Associer les agents à chaque choix d'outil numérique."])
    sign_in(page, territory.moderator)
    page.goto("/")
    expect(page.get_by_role("heading", name="Tableau de bord de la modération")).to_be_visible()
    expect(page.locator("[data-figure=pending]")).to_have_text("1")
    page.get_by_role("link", name="EN").click()
    expect(page.get_by_role("heading", name="Moderation dashboard")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/queue")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_the_dashboard_shows_overturned_decisions_of_the_moderators_territory_only(stack, page):
    insult = "Les élus sont tous des connards incompétents."
    mine = Territory(stack, [insult, insult])  # strict: held on the insult ground
    other = Territory(stack, [insult, insult])
    for territory, published in ((mine, [0]), (other, [0, 1])):
        auth = httpx.BasicAuth(territory.moderator, PASSWORD)
        for index in published:
            response = httpx.post(f"{stack.url('moderation')}/v1/contributions/{territory.ids[index]}/decision",
                                  json={"outcome": "published"}, auth=auth, timeout=60)
            assert response.status_code == 200, response.text
    sign_in(page, mine.moderator)
    page.goto("/")
    expect(page.get_by_role("heading", name="Décisions automatiques corrigées par une personne (30 derniers jours)")
           ).to_be_visible()
    row = page.locator(".overturns tr[data-ground=insult]")
    expect(row.locator("td").first).to_have_text("Injure ou attaque personnelle")
    expect(row.locator("[data-figure=held]")).to_have_text("2")  # not the other territory's two
    expect(row.locator("[data-figure=held-published]")).to_have_text("1")
    expect(row.locator("[data-figure=held-published-rate]")).to_have_text("(50 %)")
    expect(row.locator("[data-figure=published-rejected-rate]")).to_have_text("(—)")  # nothing published automatically
    page.get_by_role("link", name="EN").click()
    expect(page.get_by_role("heading", name="Automatic decisions overturned by a person (last 30 days)")).to_be_visible()


def test_the_queue_looks_usable(stack, page):
    territory = Territory(stack, [
        "Je propose que la métropole publie ses algorithmes. Contact : jeanne.dupont@example.org",
        "Les élus qui votent ça sont des abrutis finis.",
        "Former les agents avant de déployer un assistant conversationnel à l'accueil.",
    ])
    sign_in(page, territory.moderator)
    page.keyboard.press("j")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)
    expect(page.locator("mark.flag").first).to_be_visible()
