"""localcloud's moto hooks: each declared target exists in the installed moto with the
parameters its hook was written for, and installing then removing hooks restores moto."""

from __future__ import annotations

import pytest

from localcloud.core.engine import declared_hooks
from localcloud.core.hooks import Hook, InstalledHooks

HOOKS = declared_hooks()


@pytest.mark.parametrize("hook", HOOKS, ids=[hook.target for hook in HOOKS])
def test_each_hook_target_exists_with_the_parameters_it_was_written_for(hook: Hook) -> None:
    assert hook.drift() is None


def test_every_hook_says_why_and_only_wrapping_hooks_share_a_target() -> None:
    assert all(hook.why for hook in HOOKS)
    for hook in HOOKS:
        sharing = [other for other in HOOKS if other.target == hook.target]
        # Wrapping hooks on one target chain; a replacing one would silence the others.
        assert len(sharing) == 1 or not any(other.replaces for other in sharing), hook.target


class _Library:
    def send(self, queue: str, body: str) -> str:
        return f"{queue}:{body}"


def _upper(original):
    def send(self, queue, body):
        return original(self, queue, body).upper()

    return send


def test_a_renamed_target_is_reported_by_name() -> None:
    hook = Hook(_Library, "send_message", _upper, why="test", parameters=("self", "queue"))

    assert hook.drift() == f"{__name__}._Library.send_message: the target is gone"


def test_a_changed_signature_is_reported_with_both_parameter_lists() -> None:
    hook = Hook(_Library, "send", _upper, why="test", parameters=("self", "queue_name", "body"))

    assert hook.drift() == (
        f"{__name__}._Library.send: parameters ('self', 'queue', 'body'), "
        "hook written for ('self', 'queue_name', 'body')"
    )


def test_installed_hooks_apply_until_removed() -> None:
    hooks = InstalledHooks(
        [Hook(_Library, "send", _upper, why="test", parameters=("self", "queue", "body"))]
    )
    assert _Library().send("q", "hi") == "Q:HI"

    hooks.remove()

    assert _Library().send("q", "hi") == "q:hi"
    assert "send" in vars(_Library)


def test_a_hook_on_an_inherited_attribute_is_removed_without_a_trace() -> None:
    class Child(_Library):
        pass

    hooks = InstalledHooks([Hook(Child, "send", _upper, why="test", parameters=None)])
    assert Child().send("q", "hi") == "Q:HI"

    hooks.remove()

    assert "send" not in vars(Child)
    assert Child().send("q", "hi") == "q:hi"


def test_the_shared_model_loader_installed_twice_still_answers() -> None:
    # The test session installs it and so does every engine it starts; the second wrapper
    # asks the first while holding the loaders' lock.
    import threading

    import botocore.session

    from localcloud.core.engine import SHARED_MODEL_LOADER

    hooks = InstalledHooks([SHARED_MODEL_LOADER, SHARED_MODEL_LOADER])
    loaders = []
    try:
        worker = threading.Thread(
            target=lambda: loaders.append(botocore.session.create_loader("/nonexistent/models")),
            daemon=True,
        )
        worker.start()
        worker.join(timeout=5)
    finally:
        hooks.remove()

    assert len(loaders) == 1


def test_moto_service_folders_are_listed_once_and_the_same(monkeypatch: pytest.MonkeyPatch):
    import os

    import moto.backends

    from localcloud.core.engine import HOOKS

    [hook] = [hook for hook in HOOKS if hook.attribute == "list_of_moto_modules"]
    expected = list(moto.backends.list_of_moto_modules())
    listings = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path: listings.append(path) or real_listdir(path))
    hooks = InstalledHooks([hook])
    try:
        first = list(moto.backends.list_of_moto_modules())
        second = list(moto.backends.list_of_moto_modules())
    finally:
        hooks.remove()

    assert first == second == expected
    assert len(listings) == 1


def _purge(_missing):
    def purge(self, queue):
        return f"purged {queue}"

    return purge


def test_an_added_operation_exists_only_while_installed() -> None:
    hook = Hook(_Library, "purge", _purge, why="test", parameters=None, adds=True)
    assert hook.drift() is None

    hooks = InstalledHooks([hook])
    assert _Library().purge("q") == "purged q"

    hooks.remove()
    assert not hasattr(_Library, "purge")


def test_an_added_operation_the_library_now_has_is_reported_by_name() -> None:
    hook = Hook(_Library, "send", _purge, why="test", parameters=None, adds=True)

    assert hook.drift() == (
        f"{__name__}._Library.send: moto now has it; the hook that adds it must go"
    )
