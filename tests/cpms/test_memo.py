"""What a process remembers of a tenant: asked once, known until it expires or is forgotten."""

from cpms import memo


def test_a_fact_is_asked_once_and_known_until_it_expires(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(memo.time, "monotonic", lambda: now[0])
    facts = memo.TenantFacts(ttl=30.0)
    asked = []

    def ask():
        asked.append(1)
        return False

    assert facts.known(7) is None
    assert facts.get(7, ask) is False and facts.get(7, ask) is False
    assert facts.known(7) is False and len(asked) == 1
    now[0] = 130.0
    assert facts.known(7) is None
    facts.get(7, ask)
    assert len(asked) == 2


def test_a_forgotten_tenant_is_asked_again():
    facts = memo.TenantFacts(ttl=30.0)
    facts.get(1, lambda: False)
    facts.get(2, lambda: True)
    facts.forget(1)
    assert facts.known(1) is None and facts.known(2) is True
    memo.forget_all()
    assert facts.known(2) is None
