"""The WeCom (企业微信) channel (issue 17): so far its callback crypto (crypto), message parsing
(messages), the API client (client) with the access token every instance shares (token), and
the WeCom API emulator beside it (emulator)."""

__all__ = ["client", "crypto", "messages", "token"]
