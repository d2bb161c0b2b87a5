package plan

import (
	"fmt"
	"net/url"
	"strings"
)

// Reference schemes. A reference names where a secret lives without
// holding it; rewrite leaves references in .env files and `env2vault run`
// resolves them at start-up.
//
//	vault://MOUNT/PATH#FIELD          Vault KV v2 (add ?kv=1 for KV v1)
//	gcp-sm://projects/P/secrets/S     Google Secret Manager, latest version
//	aws-sm://REGION/NAME              AWS Secrets Manager, AWSCURRENT
const (
	SchemeVault = "vault"
	SchemeGCP   = "gcp-sm"
	SchemeAWS   = "aws-sm"
)

// Reference returns the reference string for target t in backend b.
func Reference(b Backend, t Target) string {
	switch b.Kind {
	case BackendGCP:
		return fmt.Sprintf("%s://projects/%s/secrets/%s", SchemeGCP, t.Project, t.SecretID)
	case BackendAWS:
		return fmt.Sprintf("%s://%s/%s", SchemeAWS, t.Region, t.Name)
	default:
		q := ""
		if b.KVVersion == 1 {
			q = "?kv=1"
		}
		field := t.Field
		if field == "" {
			field = "value"
		}
		return fmt.Sprintf("%s://%s/%s%s#%s", SchemeVault, t.Mount, t.Path, q, field)
	}
}

// IsReference reports whether s looks like a reference (any known scheme).
func IsReference(s string) bool {
	for _, p := range []string{SchemeVault, SchemeGCP, SchemeAWS} {
		if strings.HasPrefix(s, p+"://") {
			return true
		}
	}
	return false
}

// ParseReference parses a reference into the backend settings and target
// it names.
func ParseReference(s string) (Backend, Target, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Backend{}, Target{}, fmt.Errorf("not a secret reference: %w", err)
	}
	bad := func(why string) (Backend, Target, error) {
		return Backend{}, Target{}, fmt.Errorf("bad %s:// reference %q: %s", u.Scheme, s, why)
	}
	rest := strings.Trim(u.Path, "/")
	switch u.Scheme {
	case SchemeVault:
		if u.Host == "" || rest == "" {
			return bad("want vault://MOUNT/PATH#FIELD")
		}
		b := Backend{Kind: BackendVault, Mount: u.Host, KVVersion: 2}
		switch u.Query().Get("kv") {
		case "", "2":
		case "1":
			b.KVVersion = 1
		default:
			return bad("kv must be 1 or 2")
		}
		field := u.Fragment
		if field == "" {
			field = "value"
		}
		return b, Target{Mount: u.Host, Path: rest, Field: field}, nil
	case SchemeGCP:
		parts := strings.Split(u.Host+"/"+rest, "/")
		if len(parts) != 4 || parts[0] != "projects" || parts[2] != "secrets" || parts[1] == "" || parts[3] == "" {
			return bad("want gcp-sm://projects/PROJECT/secrets/SECRET")
		}
		return Backend{Kind: BackendGCP, Project: parts[1]}, Target{Project: parts[1], SecretID: parts[3]}, nil
	case SchemeAWS:
		if u.Host == "" || rest == "" {
			return bad("want aws-sm://REGION/NAME")
		}
		return Backend{Kind: BackendAWS, Region: u.Host}, Target{Region: u.Host, Name: rest}, nil
	default:
		return Backend{}, Target{}, fmt.Errorf("unknown secret reference scheme %q (want vault, gcp-sm or aws-sm)", u.Scheme)
	}
}
