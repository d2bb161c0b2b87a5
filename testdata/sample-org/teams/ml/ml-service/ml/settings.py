"""Settings for the model pipeline."""

MODEL = "claude-sonnet"
HF_TOKEN = "{{fake:huggingface}}"
BATCH_SIZE = 32
