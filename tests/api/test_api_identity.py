"""Who acts: the actor on every event comes from the identity API Gateway's Cognito authorizer
verified (`requestContext.authorizer.claims`): `user:<sub>` for a person, `client:<client_id>`
for a machine client such as the phone system. Never an e-mail or a name, never a header
(`X-Actor` counts nowhere), never the IAM caller of the request context."""

from __future__ import annotations

import pytest
from api_harness import Api, machine_claims, person_claims, sample, signed_in

HOTLINE_SUB = "7d3f9a2c-1b4e-4c8a-9f6d-2e5b8c1a7f30"
OTHER_SUB = "0a9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c"
PHONE_CLIENT = "3k9p2q7r1s5t8u4v6w0x2y3z1a"


def open_case_as_phone_system(api: Api) -> str:
    reply = api.send(signed_in(sample("call_started"), machine_claims(PHONE_CLIENT)))
    assert reply.status == 201, reply.body
    return reply.body["case_id"]


def test_the_phone_systems_client_id_is_the_actor_of_its_call_events(api: Api) -> None:
    open_case_as_phone_system(api)
    log = api.log()
    assert log and {e.actor for e in log} == {f"client:{PHONE_CLIENT}"}


def test_a_persons_subject_is_the_actor_and_x_actor_is_ignored(api: Api) -> None:
    case_id = open_case_as_phone_system(api)
    before = api.log_length()
    event = signed_in(
        sample("need", case_id=case_id, headers={"X-Actor": "somebody-else"}), person_claims(HOTLINE_SUB, "hotline")
    )
    assert api.send(event).status == 200
    [need] = api.log()[before:]
    assert need.actor == f"user:{HOTLINE_SUB}"
    # pseudonymous: no e-mail, no user name of the token, no IAM ARN
    assert "@" not in need.actor and "anna" not in need.actor and "arn:" not in need.actor


def test_a_persons_access_token_names_the_person_not_the_app_client(api: Api) -> None:
    case_id = open_case_as_phone_system(api)
    claims = {**machine_claims("5q1m2n3o4p5q6r7s8t9u0v1w2x", scope="aws.cognito.signin.user.admin")}
    claims |= {"sub": HOTLINE_SUB, "username": "anna", "cognito:groups": "hotline"}  # a person's access token
    assert api.send(signed_in(sample("need", case_id=case_id), claims)).status == 200
    assert api.log()[-1].actor == f"user:{HOTLINE_SUB}"


def iam_request(name: str) -> dict:
    """A request as the IAM-authorised API delivered it: the caller's credentials in the request
    context, an X-Actor header, no Cognito claims."""
    event = sample(name, claims=None, headers={"X-Actor": "phone-local"})
    event["requestContext"]["identity"].update(
        userArn="arn:aws:sts::123456789012:assumed-role/notfall-phone/pbx", caller="AROAEXAMPLE:pbx", accessKey="ASIA"
    )
    return event


def test_neither_the_iam_caller_nor_x_actor_names_anybody(api: Api) -> None:
    reply = api.send(iam_request("call_started"))
    assert reply.status == 401, reply.body
    assert reply.fields() == ["header.Authorization"]
    assert api.log_length() == 0


@pytest.mark.parametrize(
    "claims",
    [
        {"token_use": "id", "cognito:groups": "hotline"},  # no subject
        {"token_use": "access", "scope": "notfall/call-events"},  # no client id, no subject
        {"sub": "", "token_use": "id"},
    ],
)
def test_claims_without_a_subject_answer_401_and_write_nothing(api: Api, claims: dict[str, str]) -> None:
    reply = api.send(sample("call_started", claims=claims, headers={"X-Actor": "phone-local"}))
    assert reply.status == 401, reply.body
    assert reply.fields() == ["header.Authorization"]
    assert api.log_length() == 0


def test_an_authorizer_context_without_claims_answers_401(api: Api) -> None:
    """Only the Cognito authorizer's claims count: a principalId (a custom authorizer's) is not trusted."""
    event = sample("call_started", claims=None, headers={"X-Actor": "phone-local"})
    event["requestContext"]["authorizer"] = {"principalId": "phone-system"}
    reply = api.send(event)
    assert reply.status == 401 and reply.fields() == ["header.Authorization"], reply.body
    assert api.log_length() == 0


def test_two_people_with_the_same_key_do_not_collide_and_a_retry_is_answered_once(api: Api) -> None:
    first_case = open_case_as_phone_system(api)
    key = {"Idempotency-Key": "close-1"}
    me, other = person_claims(HOTLINE_SUB, "hotline"), person_claims(OTHER_SUB, "hotline")
    first = api.send(signed_in(sample("close", case_id=first_case, headers=key), me))
    before = api.log_length()
    retry = api.send(signed_in(sample("close", case_id=first_case, headers=key), me))
    assert (first.status, retry.status, retry.body) == (200, 200, first.body)
    assert api.log_length() == before
    # the same key from another person is another command (here: 409, the case is closed already)
    assert api.send(signed_in(sample("close", case_id=first_case, headers=key), other)).status == 409
