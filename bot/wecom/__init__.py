"""The WeCom (企业微信) channel (issue 17): so far its callback crypto and message parsing."""
