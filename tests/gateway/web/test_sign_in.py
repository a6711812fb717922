"""Staff sign-in with a second factor (CJ-04): password and TOTP code, enrolment, recovery codes."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from gateway.audit.models import AuditEntry
from gateway.models import RecipientAccount
from gateway.recipients.roles import Role
from gateway.recipients.services import user_create_with_role
from tests.gateway.web.staff import PASSWORD, staff_create, totp_code

pytestmark = pytest.mark.django_db


def test_the_code_computed_from_the_base32_secret_signs_in_and_shows_the_home_page(
    client: Client,
) -> None:
    staff = staff_create("clerk.one", Role.CLERK)
    response = staff.sign_in(client)
    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert b"Request queue" in home.content
    assert b"Records clerk" in home.content
    assert home.wsgi_request.user.is_verified()  # type: ignore[union-attr]


def test_the_sign_in_page_keeps_djangos_field_names_and_labels_every_input(client: Client) -> None:
    html = client.get("/login/").content.decode()
    for name in ("username", "password", "otp_token"):
        field_id = f"id_{name}"
        assert f'name="{name}"' in html
        assert f'<label for="{field_id}">' in html
        assert f'id="{field_id}"' in html


@pytest.mark.parametrize("code", ["", "000000", "not a code"])
def test_a_wrong_or_missing_code_is_refused_and_audited(client: Client, code: str) -> None:
    staff = staff_create("clerk.one", Role.CLERK)
    if code == "000000" and totp_code(staff.secret) == code:
        code = "000001"
    response = staff.sign_in(client, code=code)
    assert response.status_code == 200
    assert b"That code did not match" in response.content
    assert not client.get("/").wsgi_request.user.is_authenticated
    assert AuditEntry.objects.filter(action="sign_in_failed").count() == 1
    assert not AuditEntry.objects.filter(action="sign_in").exists()


def test_a_code_from_the_previous_step_works_but_is_not_accepted_twice() -> None:
    staff = staff_create("clerk.one", Role.CLERK)
    code = totp_code(staff.secret, at=time.time() - 30)
    assert staff.sign_in(Client(), code=code).status_code == 302
    assert staff.sign_in(Client(), code=code).status_code == 200  # replayed: refused


def test_a_recovery_code_signs_in_once(client: Client) -> None:
    staff = staff_create("clerk.one", Role.CLERK)
    first = Client()
    assert staff.sign_in(first).status_code == 302
    renewed = first.post("/account/recovery-codes/")
    codes = re.findall(r"<code>([a-z0-9]{8})</code>", renewed.content.decode())
    assert len(codes) == 10
    assert StaticToken.objects.filter(device__user=staff.user).count() == 10
    assert staff.sign_in(Client(), code=codes[0]).status_code == 302
    assert staff.sign_in(Client(), code=codes[0]).status_code == 200
    assert StaticToken.objects.filter(device__user=staff.user).count() == 9


def test_a_wrong_password_with_the_right_code_is_refused(client: Client) -> None:
    staff = staff_create("clerk.one", Role.CLERK)
    response = client.post(
        "/login/",
        {"username": staff.username, "password": "wrong", "otp_token": totp_code(staff.secret)},
    )
    assert response.status_code == 200
    assert not client.get("/").wsgi_request.user.is_authenticated


def test_a_recipient_account_cannot_sign_in_to_the_staff_pages(client: Client) -> None:
    user = user_create_with_role(username="vendor.api", password=PASSWORD, role=Role.VENDOR)
    RecipientAccount.objects.create(user=user, recipient_type="vendor", name="Vendor")
    response = client.post("/login/", {"username": "vendor.api", "password": PASSWORD})
    assert response.status_code == 200
    assert b"Recipient accounts use the API" in response.content
    assert not client.get("/").wsgi_request.user.is_authenticated
    # Even a recipient that also holds a staff group is not staff.
    user.groups.add(Group.objects.get(name="clerk"))
    client.force_login(user)
    assert client.get("/").status_code == 403


def test_staff_pages_need_a_verified_device(client: Client) -> None:
    staff = staff_create("clerk.one", Role.CLERK)
    client.force_login(staff.user)  # a password session without the second factor
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert client.get("/account/").status_code == 302


def test_first_sign_in_enrols_an_authenticator_by_a_qr_code_drawn_locally(client: Client) -> None:
    user_create_with_role(username="new.clerk", password=PASSWORD, role=Role.CLERK)
    response = client.post("/login/", {"username": "new.clerk", "password": PASSWORD})
    assert response["Location"] == "/account/two-factor/"
    assert client.get("/")["Location"] == "/account/two-factor/"  # every staff page sends it there
    page = client.get("/account/two-factor/")
    html = page.content.decode()
    assert "<svg" in html  # server-rendered QR code, no image service
    assert "<path" in html
    assert "http" not in re.sub(
        r'xmlns(:\w+)?="[^"]+"', "", html.split("<svg", 1)[1].split("</svg>")[0]
    )
    assert not TOTPDevice.objects.exists()  # nothing stored until a code proves the app has the key
    found = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', html)
    assert found is not None
    secret = found.group(1).replace(" ", "")
    wrong = client.post("/account/two-factor/", {"otp_token": "12345"})
    assert b"did not match" in wrong.content
    assert not TOTPDevice.objects.exists()
    done = client.post("/account/two-factor/", {"otp_token": totp_code(secret)})
    codes = re.findall(r"<code>([a-z0-9]{8})</code>", done.content.decode())
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user__username="new.clerk").confirmed
    assert client.get("/").status_code == 200  # verified by the enrolment itself
    assert AuditEntry.objects.filter(action="mfa_enrolled").count() == 2  # authenticator, codes
    # Once enrolled, the password alone no longer signs in.
    assert (
        Client().post("/login/", {"username": "new.clerk", "password": PASSWORD}).status_code == 200
    )


def test_an_enrolled_account_cannot_enrol_a_second_authenticator(client: Client) -> None:
    staff = staff_create("clerk.one", Role.CLERK)
    client.force_login(staff.user)
    assert client.get("/account/two-factor/")["Location"] == "/"
    assert client.post("/account/two-factor/", {"otp_token": "123456"})["Location"] == "/"
    assert TOTPDevice.objects.filter(user=staff.user).count() == 1


def test_the_admin_asks_for_the_second_factor_too(client: Client) -> None:
    admin = staff_create("admin.one", Role.ADMINISTRATOR)
    client.force_login(admin.user)  # password only
    response = client.get("/admin/")
    assert response.status_code == 302
    followed = client.get(response["Location"])
    assert followed["Location"].startswith("/login/?next=/admin/")
    verified = Client()
    assert admin.sign_in(verified).status_code == 302
    page = verified.get("/admin/")
    assert page.status_code == 200
    assert b"Custodian administration" in page.content
    assert b"Staff qualifications" in page.content


def test_the_admin_login_sends_off_site_next_urls_home(client: Client) -> None:
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"].startswith("/login/?next=/admin/")
