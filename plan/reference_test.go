package plan

import "testing"

func TestReferenceRoundTrip(t *testing.T) {
	tests := []struct {
		b    Backend
		t    Target
		want string
	}{
		{Backend{Kind: BackendVault, Mount: "secret", KVVersion: 2}, Target{Mount: "secret", Path: "billing-api/stripe-secret-key-dev", Field: "value"}, "vault://secret/billing-api/stripe-secret-key-dev#value"},
		{Backend{Kind: BackendVault, Mount: "kv", KVVersion: 1}, Target{Mount: "kv", Path: "a/b", Field: "token"}, "vault://kv/a/b?kv=1#token"},
		{Backend{Kind: BackendGCP, Project: "acme"}, Target{Project: "acme", SecretID: "stripe-secret-key-prod"}, "gcp-sm://projects/acme/secrets/stripe-secret-key-prod"},
		{Backend{Kind: BackendAWS, Region: "eu-west-1"}, Target{Region: "eu-west-1", Name: "web/session-secret-prod"}, "aws-sm://eu-west-1/web/session-secret-prod"},
	}
	for _, tt := range tests {
		got := Reference(tt.b, tt.t)
		if got != tt.want {
			t.Errorf("Reference = %q, want %q", got, tt.want)
		}
		if !IsReference(got) {
			t.Errorf("IsReference(%q) = false", got)
		}
		b, tgt, err := ParseReference(got)
		if err != nil {
			t.Fatalf("ParseReference(%q): %v", got, err)
		}
		if b.Kind != tt.b.Kind || tgt != tt.t {
			t.Errorf("ParseReference(%q) = %+v %+v, want %+v %+v", got, b, tgt, tt.b, tt.t)
		}
		if tt.b.Kind == BackendVault && b.KVVersion != tt.b.KVVersion {
			t.Errorf("ParseReference(%q) kv = %d, want %d", got, b.KVVersion, tt.b.KVVersion)
		}
	}
}

func TestParseReferenceErrors(t *testing.T) {
	for _, s := range []string{"vault://", "vault://secret", "vault://secret/x?kv=3", "gcp-sm://projects/p", "gcp-sm://p/s", "aws-sm://eu-west-1", "ftp://x/y", "plain"} {
		if _, _, err := ParseReference(s); err == nil {
			t.Errorf("ParseReference(%q) succeeded", s)
		}
	}
	if IsReference("sk_live_abc") || IsReference("postgres://u:p@h/db") {
		t.Error("IsReference accepted a non-reference")
	}
}
