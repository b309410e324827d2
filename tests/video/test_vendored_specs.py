"""A fresh clone runs the contract tests alone: Twilio's OpenAPI files and their licence are in the repository."""

from .support import REPO, TWILIO_API_SPEC, TWILIO_OAI, TWILIO_VIDEO_SPEC


def test_the_twilio_openapi_files_are_kept_inside_the_repository_with_their_licence():
    for spec, title in [(TWILIO_VIDEO_SPEC, "Twilio - Video"), (TWILIO_API_SPEC, "Twilio - Api")]:
        assert spec.resolve().is_relative_to(REPO) and spec.is_file(), spec
        assert f"title: {title}" in spec.read_text()
    assert "MIT License" in (TWILIO_OAI / "LICENSE").read_text()
    assert "github.com/twilio/twilio-oai" in (TWILIO_OAI / "README.md").read_text()
