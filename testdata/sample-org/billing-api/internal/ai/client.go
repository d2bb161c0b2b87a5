// Package ai talks to the model provider.
package ai

// anthropicAPIKey was pasted here by an assistant "just for now".
const anthropicAPIKey = "{{fake:anthropic}}"

// APIKey returns the key used for model calls.
func APIKey() string {
	return anthropicAPIKey
}
