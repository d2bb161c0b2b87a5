package migrate

import (
	"context"
	"fmt"
	"net/http"

	"github.com/env2vault/env2vault/plan"
)

// Options configure how a backend is reached. Credentials never come from
// here: Vault reads VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_CACERT
// and ~/.vault-token; GCP uses Application Default Credentials; AWS its
// default credential chain.
type Options struct {
	// AllowInsecureHTTP permits plain http:// to a non-loopback Vault.
	AllowInsecureHTTP bool
	// Endpoint overrides the GCP or AWS endpoint (tests, VPC endpoints).
	Endpoint string
	// HTTPClient overrides the HTTP client (tests).
	HTTPClient *http.Client
}

// Open returns the backend b names.
func Open(ctx context.Context, b plan.Backend, opts Options) (Backend, error) {
	switch b.Kind {
	case plan.BackendVault, "":
		return openVault(ctx, b, opts)
	case plan.BackendGCP:
		return openGCP(ctx, b, opts)
	case plan.BackendAWS:
		return openAWS(ctx, b, opts)
	default:
		return nil, fmt.Errorf("unknown backend %q (want vault, gcp or aws)", b.Kind)
	}
}
