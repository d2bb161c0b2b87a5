package detect

import (
	"strings"
	"sync"
	"testing"

	"github.com/env2vault/env2vault/secret"
)

var (
	testDetOnce sync.Once
	testDet     *Detector
)

func detector(t testing.TB) *Detector {
	t.Helper()
	testDetOnce.Do(func() {
		d, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		testDet = d
	})
	return testDet
}

func TestClassifyEntry(t *testing.T) {
	d := detector(t)
	stripe := fake("sk", "_live_", tail(21, 32, alnum))
	anth := fake("sk-", "ant-", "api03-", tail(22, 93, b64ch), "AA")
	ghp := fake("gh", "p_", tail(23, 36, alnum))
	slackHook := fake("https://hooks.", "slack.com/services/T0", "1ABCD2EF/B0", "1ABCD2EF/", tail(24, 24, alnum))
	sendgrid := fake("S", "G.", tail(25, 22, b64ch), ".", tail(26, 43, b64ch))
	random := tail(27, 40, alnum+"+/")
	tests := []struct {
		key, val         string
		class, rule, svc string
		reason, hint     string
	}{
		// Placeholders.
		{"STRIPE_SECRET_KEY", "", ClassPlaceholder, "", "", "empty", ""},
		{"STRIPE_SECRET_KEY", "  ", ClassPlaceholder, "", "", "empty", ""},
		{"STRIPE_SECRET_KEY", "sk_test_your-key-here", ClassPlaceholder, "", "", "", ""},
		{"SENDGRID_API_KEY", "your-key-here", ClassPlaceholder, "", "", "", ""},
		{"ANTHROPIC_API_KEY", "sk-ant-...", ClassPlaceholder, "", "", "truncated example", ""},
		{"OPENAI_API_KEY", "<your-openai-key>", ClassPlaceholder, "", "", "placeholder <...>", ""},
		{"SESSION_SECRET", "changeme", ClassPlaceholder, "", "", "", ""},
		{"API_TOKEN", "xxx", ClassPlaceholder, "", "", "", ""},
		{"API_TOKEN", "xxxxxxxxxxxxxxxx", ClassPlaceholder, "", "", "", ""},
		{"DB_PASSWORD", "${DB_PASSWORD}", ClassPlaceholder, "", "", "reference", ""},
		{"DB_PASSWORD", "$DB_PASSWORD", ClassPlaceholder, "", "", "reference", ""},
		{"DB_PASSWORD", "vault://secret/data/db#password", ClassPlaceholder, "", "", "reference", ""},
		{"DB_PASSWORD", "op://vault/item/password", ClassPlaceholder, "", "", "reference", ""},
		{"DATABASE_URL", "postgres://billing:changeme@localhost:5432/billing", ClassPlaceholder, "", "", "", ""},
		{"AWS_ACCESS_KEY_ID", fake("AK", "IA", "IOSFODNN7", "EXAMPLE"), ClassPlaceholder, "", "", "", ""},
		// Provider rules.
		{"STRIPE_SECRET_KEY", stripe, ClassSecret, "stripe-access-token", "stripe", "provider rule stripe-access-token", "sk_live_…"},
		{"ANTHROPIC_API_KEY", anth, ClassSecret, "anthropic-api-key", "anthropic", "provider rule anthropic-api-key", "sk-ant-api03-…"},
		{"GH", ghp, ClassSecret, "github-pat", "github", "provider rule github-pat", "ghp_…"},
		{"SLACK_WEBHOOK_URL", slackHook, ClassSecret, "slack-webhook-url", "slack", "provider rule slack-webhook-url", "https://hooks.slack.com/…"},
		{"MAIL", sendgrid, ClassSecret, "sendgrid-api-token", "sendgrid", "provider rule sendgrid-api-token", "SG.…"},
		// URLs with passwords.
		{"DATABASE_URL", "postgres://billing:" + tail(28, 20, alnum) + "@db.internal:5432/billing", ClassSecret, RuleURLPassword, "postgres", "url with a password", ""},
		{"REDIS_URL", "rediss://:" + tail(29, 16, alnum) + "@cache:6379/0", ClassSecret, RuleURLPassword, "redis", "url with a password", ""},
		{"AMQP_URL", "amqp://guest:s3cr3t-pw@mq:5672/", ClassSecret, RuleURLPassword, "amqp", "url with a password", ""},
		{"MYSQL_DSN", "mysql://root:hunter22@db/app", ClassSecret, RuleURLPassword, "mysql", "url with a password", ""},
		// Key names.
		{"SESSION_SECRET", "hunter22", ClassSecret, RuleKeyName, "", "key name", ""},
		{"POSTGRES_PASSWORD", "billing", ClassSecret, RuleKeyName, "postgres", "key name", ""},
		{"apiKey", "abc12345", ClassSecret, RuleKeyName, "", "key name", ""},
		{"JWT_SIGNING_KEY", "short-but-real", ClassSecret, RuleKeyName, "", "key name", ""},
		// Entropy.
		{"SOMETHING", random, ClassSecret, RuleEntropy, "", "entropy", ""},
		// Configuration.
		{"PORT", "8080", ClassConfig, "", "", "config key", ""},
		{"DEBUG", "true", ClassConfig, "", "", "config key", ""},
		{"LOG_LEVEL", "debug", ClassConfig, "", "", "config key", ""},
		{"FEATURE_X", "false", ClassConfig, "", "", "boolean", ""},
		{"WORKERS", "12", ClassConfig, "", "", "number", ""},
		{"API_BASE", "https://api.example.com/v1", ClassConfig, "", "", "url without password", ""},
		{"DB_HOST", "db.internal", ClassConfig, "", "", "hostname", ""},
		{"TOKEN_TTL", "3600", ClassConfig, "", "", "number", ""},
		{"SECRET_NAME", "billing-prod", ClassConfig, "", "", "low entropy", ""},
		{"API_KEY_ID", "key-123", ClassConfig, "", "", "", ""},
		{"PASSWORD_MIN_LENGTH", "12", ClassConfig, "", "", "number", ""},
		{"COMMIT_SHA", tail(30, 40, hexch), ClassConfig, "", "", "", ""},
		{"REQUEST_ID", "123e4567-e89b-12d3-a456-426614174000", ClassConfig, "", "", "", ""},
		{"SORT_KEY", "name", ClassConfig, "", "", "low entropy", ""},
		{"CACHE_KEY", "user-profile", ClassConfig, "", "", "", ""},
		{"KEY", "abc123def456", ClassSecret, RuleKeyName, "", "key name", ""},
		{"ENCRYPTION_KEY", "correcthorse", ClassSecret, RuleKeyName, "", "key name", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key+"/"+tt.class, func(t *testing.T) {
			v := d.ClassifyEntry(tt.key, secret.New(tt.val))
			if v.Class != tt.class {
				t.Fatalf("class = %q (%s), want %q", v.Class, v.Reason, tt.class)
			}
			if v.Rule != tt.rule || v.Service != tt.svc || v.Hint != tt.hint {
				t.Errorf("got rule=%q service=%q hint=%q, want %q %q %q", v.Rule, v.Service, v.Hint, tt.rule, tt.svc, tt.hint)
			}
			if tt.reason != "" && !strings.HasPrefix(v.Reason, tt.reason) {
				t.Errorf("reason = %q, want prefix %q", v.Reason, tt.reason)
			}
			if tt.val != "" && len(tt.val) >= 4 && strings.Contains(v.Reason, tt.val) {
				t.Errorf("reason leaks the value")
			}
		})
	}
}

func TestEntropyReason(t *testing.T) {
	v := detector(t).ClassifyEntry("X", secret.New(tail(31, 48, alnum+"+/")))
	if v.Class != ClassSecret || !strings.HasPrefix(v.Reason, "entropy ") || len(v.Reason) != len("entropy 4.8") {
		t.Errorf("got %+v", v)
	}
}

func TestKeyNameSecret(t *testing.T) {
	tests := []struct {
		name          string
		loose, strict bool
	}{
		{"STRIPE_SECRET_KEY", true, true},
		{"anthropicAPIKey", true, true},
		{"HF_TOKEN", true, true},
		{"db_password", true, true},
		{"PGPASSWORD", true, true},
		{"clientSecret", true, true},
		{"AWS_SECRET_ACCESS_KEY", true, true},
		{"API_KEY", true, true},
		{"KEY", true, false},
		{"SORT_KEY", true, false},
		{"mapKey", true, false},
		{"primaryKey", true, false},
		{"TOKEN_TTL", false, false},
		{"SECRET_NAME", false, false},
		{"API_KEY_ID", false, false},
		{"PORT", false, false},
		{"keyboard", false, false},
		{"tokenizer", false, false},
	}
	for _, tt := range tests {
		if got := keyNameSecret(tt.name, false); got != tt.loose {
			t.Errorf("keyNameSecret(%q, loose) = %v", tt.name, got)
		}
		if got := keyNameSecret(tt.name, true); got != tt.strict {
			t.Errorf("keyNameSecret(%q, strict) = %v", tt.name, got)
		}
	}
}

func TestNameTokens(t *testing.T) {
	tests := map[string]string{
		"anthropicAPIKey":   "anthropic api key",
		"STRIPE_SECRET_KEY": "stripe secret key",
		"HTTPServerToken":   "http server token",
		"x-api-key":         "x api key",
		"db.password":       "db password",
		"OAuth2Token":       "o auth2 token",
	}
	for in, want := range tests {
		if got := strings.Join(nameTokens(in), " "); got != want {
			t.Errorf("nameTokens(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHint(t *testing.T) {
	tests := []struct{ val, want string }{
		{fake("sk", "_live_", tail(41, 32, alnum)), "sk_live_…"},
		{fake("sk-", "ant-", "api03-", tail(42, 95, b64ch)), "sk-ant-api03-…"},
		{fake("gh", "p_", tail(43, 36, alnum)), "ghp_…"},
		{fake("AK", "IA", tail(44, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")), "AKIA…"},
		{tail(45, 40, alnum), ""},
		{"sk_live_short", ""}, // too short: the prefix would be most of it
		{"", ""},
	}
	for _, tt := range tests {
		got := Hint("", secret.New(tt.val))
		if got != tt.want {
			t.Errorf("Hint(%d chars) = %q, want %q", len(tt.val), got, tt.want)
		}
		if tt.val != "" && got != "" && strings.Contains(got, tt.val[len(got)-len("…")+2:]) {
			t.Errorf("hint shows random characters")
		}
	}
}

func TestServiceForRule(t *testing.T) {
	tests := map[string]string{
		"stripe-access-token": "stripe", "anthropic-api-key": "anthropic", "gcp-api-key": "google",
		"aws-access-token": "aws", "github-pat": "github", "generic-api-key": "", "private-key": "",
		"new-relic-user-api-key": "newrelic", RuleURLPassword: "", "huggingface-access-token": "huggingface",
	}
	for in, want := range tests {
		if got := ServiceForRule(in); got != want {
			t.Errorf("ServiceForRule(%q) = %q, want %q", in, got, want)
		}
	}
}
