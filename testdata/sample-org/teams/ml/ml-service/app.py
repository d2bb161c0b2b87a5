"""Sample ML service for env2vault's tests.

Prints a SHA-256 of each setting it reads, never the setting itself.
"""
import hashlib
import os

from ml import settings


def digest(value):
    return hashlib.sha256((value or "").encode()).hexdigest()


def main():
    anthropic_key = os.environ["ANTHROPIC_API_KEY"]
    openai_key = os.getenv("OPENAI_API_KEY", "")
    debug = os.environ.get("DEBUG", "0")
    print("ANTHROPIC_API_KEY", digest(anthropic_key))
    print("OPENAI_API_KEY", digest(openai_key))
    print("HF_TOKEN", digest(settings.HF_TOKEN))
    print("DEBUG", debug)


if __name__ == "__main__":
    main()
