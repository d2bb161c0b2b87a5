//go:build tools

// Package vault pins the HashiCorp Vault server version that the
// integration tests build and run. Nothing here is compiled into env2vault.
package vault

import (
	_ "github.com/hashicorp/vault"
	_ "github.com/hashicorp/vault/command"
	_ "github.com/hashicorp/vault/vault"
)
