from shared.bus import NatsAddress


def test_credentials_leave_the_urls_for_the_connection_options():
    address = NatsAddress.parse("nats://palabre:s3cret@10.0.0.1:4222, nats://palabre:s3cret@10.0.0.2")
    assert address.connect_options() == {"servers": ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"],
                                         "user": "palabre", "password": "s3cret"}


def test_a_user_without_a_password_is_a_token_and_no_url_is_the_local_server():
    assert NatsAddress.parse("nats://t0ken@nats:4222").connect_options() == {
        "servers": ["nats://nats:4222"], "token": "t0ken"}
    assert NatsAddress.parse(None).connect_options() == {"servers": ["nats://127.0.0.1:4222"]}
