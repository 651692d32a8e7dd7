"""The WeCom (企业微信) channel (issue 17): so far its callback crypto (crypto), message parsing
(messages) and the WeCom API emulator beside it (emulator)."""

__all__ = ["crypto", "messages"]
