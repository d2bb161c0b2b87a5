// Package migrate pushes planned secrets into a backend (HashiCorp Vault
// KV v2 or v1, Google Secret Manager, AWS Secrets Manager), idempotently,
// verified by reading back, and resumable through a journal.
package migrate

import (
	"context"
	"errors"

	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// ErrConflict reports that the backend changed since it was read
// (a failed check-and-set), so the write was refused.
var ErrConflict = errors.New("the secret changed in the backend since it was read")

// Current is what a backend holds at a target.
type Current struct {
	// Exists is false when the target holds nothing yet.
	Exists bool
	// Value is the current value; zero when !Exists.
	Value secret.Value
	// Version is the backend's version id (KV v2 version number, GCP
	// version name, AWS VersionId); empty for KV v1.
	Version string
}

// Metadata is stored beside a value where the backend supports it
// (KV v2 custom_metadata, GCP labels, AWS tags). It holds no values.
type Metadata struct {
	Name        string
	Service     string
	Environment string
	Owner       string
	PlanID      string
	// Sources are "repo/path:line" strings.
	Sources []string
}

// Backend is one secret store. Implementations are safe for concurrent use.
type Backend interface {
	// Kind returns plan.BackendVault, plan.BackendGCP or plan.BackendAWS.
	Kind() string
	// Check verifies connectivity and credentials.
	Check(ctx context.Context) error
	// Get reads the current value at t.
	Get(ctx context.Context, t plan.Target) (Current, error)
	// Put writes v at t. prev is what Get returned; a backend that
	// supports check-and-set refuses with ErrConflict when the target
	// changed since. It returns the new version id.
	Put(ctx context.Context, t plan.Target, v secret.Value, m Metadata, prev Current) (string, error)
}
