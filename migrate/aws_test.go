package migrate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/env2vault/env2vault/migrate/internal/asmfake"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

const (
	awsTestRegion = "eu-west-1"
	awsTestKeyID  = "env2vault-test-access-key"
)

var awsTestMeta = Metadata{
	Name:        "billing-api/stripe-key",
	Service:     "billing-api",
	Environment: "production",
	Owner:       "@acme/payments (primary) #oncall",
	PlanID:      "sha256:0f3c9a",
	Sources:     []string{"billing-api/.env.production:3", "billing-api/config.go:12"},
}

// awsEnv isolates the SDK's default credential chain: static test keys
// from the environment, no shared config files, no instance metadata.
func awsEnv(t *testing.T, withKeys bool) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_REGION", awsTestRegion)
	if withKeys {
		t.Setenv("AWS_ACCESS_KEY_ID", awsTestKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", "env2vault-test-secret-key")
	} else {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	}
}

// awsFastBackoff keeps retried tests quick.
var awsFastBackoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 5 * time.Millisecond, nil })

// startAWS runs a fake Secrets Manager and opens a backend on it.
func startAWS(t *testing.T, fo asmfake.Options) (*asmfake.Server, *awsBackend) {
	t.Helper()
	awsEnv(t, true)
	if fo.AccessKeyID == "" {
		fo.AccessKeyID = awsTestKeyID
	}
	srv, err := asmfake.Start(fo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	a, err := openAWSWith(t.Context(), plan.Backend{Kind: plan.BackendAWS, Region: awsTestRegion}, Options{Endpoint: srv.URL()}, awsFastBackoff)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return srv, a
}

// TestAWSOpen goes through Open with the SDK's own retry settings.
func TestAWSOpen(t *testing.T) {
	awsEnv(t, true)
	srv, err := asmfake.Start(asmfake.Options{AccessKeyID: awsTestKeyID})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// A bare host:port endpoint on loopback means plain http.
	b, err := Open(t.Context(), plan.Backend{Kind: plan.BackendAWS}, Options{Endpoint: strings.TrimPrefix(srv.URL(), "http://")})
	if err != nil {
		t.Fatal(err)
	}
	if b.Kind() != plan.BackendAWS {
		t.Errorf("Kind = %q", b.Kind())
	}
	if err := b.Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if n := srv.Calls("ListSecrets"); n != 1 {
		t.Errorf("ListSecrets called %d times", n)
	}
}

// TestAWSLifecycle writes, reads back, rewrites the same value and
// changes it, counting versions on the server.
func TestAWSLifecycle(t *testing.T) {
	srv, a := startAWS(t, asmfake.Options{})
	ctx := t.Context()
	if err := a.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	tgt := plan.Target{Region: awsTestRegion, Name: "prod/billing-api/stripe-key"}
	first, second := cloudCanary(t), cloudCanary(t)
	steps := []struct {
		name         string
		value        secret.Value
		wantVersions int
		wantWrites   int // CreateSecret + PutSecretValue calls so far
		newVersion   bool
	}{
		{"create", first, 1, 1, true},
		{"rerun with the same value writes nothing", first, 1, 1, false},
		{"rerun again", first, 1, 1, false},
		{"changed value adds exactly one version", second, 2, 2, true},
		{"changed value rerun", second, 2, 2, false},
	}
	var last string
	for _, st := range steps {
		prev, err := a.Get(ctx, tgt)
		if err != nil {
			t.Fatalf("%s: Get: %v", st.name, err)
		}
		ver, err := a.Put(ctx, tgt, st.value, awsTestMeta, prev)
		if err != nil {
			t.Fatalf("%s: Put: %v", st.name, err)
		}
		if (ver != last) != st.newVersion {
			t.Errorf("%s: version %q after %q, new version wanted: %v", st.name, ver, last, st.newVersion)
		}
		last = ver
		got, err := a.Get(ctx, tgt)
		if err != nil {
			t.Fatalf("%s: read back: %v", st.name, err)
		}
		if !got.Exists || !got.Value.Equal(st.value) || got.Version != ver {
			t.Errorf("%s: read back exists=%v equal=%v version=%q", st.name, got.Exists, got.Value.Equal(st.value), got.Version)
		}
		if n := srv.Versions(tgt.Name); n != st.wantVersions {
			t.Errorf("%s: %d versions, want %d", st.name, n, st.wantVersions)
		}
		if n := srv.Calls("CreateSecret") + srv.Calls("PutSecretValue"); n != st.wantWrites {
			t.Errorf("%s: %d writes, want %d", st.name, n, st.wantWrites)
		}
	}
	tags, desc, ok := srv.Tags(tgt.Name)
	if !ok {
		t.Fatal("secret missing on the server")
	}
	want := []asmfake.Tag{
		{Key: "env2vault:managed-by", Value: "env2vault"},
		{Key: "env2vault:name", Value: "billing-api/stripe-key"},
		{Key: "env2vault:service", Value: "billing-api"},
		{Key: "env2vault:environment", Value: "production"},
		{Key: "env2vault:owner", Value: "@acme/payments _primary_ _oncall"},
		{Key: "env2vault:plan-id", Value: "sha256:0f3c9a"},
	}
	if !slices.Equal(tags, want) {
		t.Errorf("tags = %v, want %v", tags, want)
	}
	if wantDesc := "Managed by env2vault: billing-api/stripe-key. Sources: billing-api/.env.production:3, billing-api/config.go:12"; desc != wantDesc {
		t.Errorf("description = %q", desc)
	}
	for _, tg := range tags {
		cloudNoLeak(t, "tag "+tg.Key, tg.Value, first, second)
	}
	cloudNoLeak(t, "the description", desc, first, second)
}

// TestAWSRequestToken checks that a repeated write of one plan step is a
// no-op in AWS and that tokens are valid, distinct UUIDs.
func TestAWSRequestToken(t *testing.T) {
	srv, a := startAWS(t, asmfake.Options{})
	ctx := t.Context()
	tgt := plan.Target{Name: "prod/db-password"}
	v := cloudCanary(t)
	ver, err := a.Put(ctx, tgt, v, awsTestMeta, Current{})
	if err != nil {
		t.Fatal(err)
	}
	if want := awsRequestToken(awsTestMeta.PlanID, awsTestRegion, tgt.Name, ""); ver != want {
		t.Errorf("first VersionId = %q, want the request token %q", ver, want)
	}
	c, region, _ := a.client("")
	next := cloudCanary(t)
	token := awsRequestToken(awsTestMeta.PlanID, region, tgt.Name, ver)
	for i := range 3 {
		got, err := a.putValue(ctx, c, region, tgt.Name, next, token)
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if got != token {
			t.Errorf("write %d: VersionId %q, want %q", i, got, token)
		}
	}
	if n := srv.Versions(tgt.Name); n != 2 {
		t.Errorf("%d versions after repeating one write, want 2", n)
	}
	// The same token with another value is refused, clearly.
	other := cloudCanary(t)
	_, err = a.putValue(ctx, c, region, tgt.Name, other, token)
	if err == nil || !strings.Contains(err.Error(), "re-run `env2vault plan`") {
		t.Errorf("reused token with another value: %v", err)
	}
	cloudNoLeak(t, "the error", fmt.Sprint(err), v, next, other)

	seen := map[string]bool{}
	for _, in := range [][4]string{
		{"p1", "eu-west-1", "a", ""}, {"p1", "eu-west-1", "a", "v1"}, {"p1", "eu-west-1", "b", ""},
		{"p2", "eu-west-1", "a", ""}, {"p1", "us-east-1", "a", ""}, {"", "eu-west-1", "a", ""},
	} {
		tok := awsRequestToken(in[0], in[1], in[2], in[3])
		if len(tok) != 36 || tok[8] != '-' || tok[14] != '8' || !strings.ContainsRune("89ab", rune(tok[19])) {
			t.Errorf("token %q is not a version-8 UUID", tok)
		}
		if tok != awsRequestToken(in[0], in[1], in[2], in[3]) {
			t.Errorf("token for %v is not deterministic", in)
		}
		if seen[tok] {
			t.Errorf("token for %v collides", in)
		}
		seen[tok] = true
	}
}

// TestAWSConcurrentSameValue: another writer stored exactly our value
// since Get; nothing would be overwritten, so Put succeeds without a write.
func TestAWSConcurrentSameValue(t *testing.T) {
	srv, a := startAWS(t, asmfake.Options{})
	ctx := t.Context()
	tgt := plan.Target{Name: "prod/raced"}
	if _, err := a.Put(ctx, tgt, cloudCanary(t), Metadata{}, Current{}); err != nil {
		t.Fatal(err)
	}
	prev, err := a.Get(ctx, tgt)
	if err != nil {
		t.Fatal(err)
	}
	v := cloudCanary(t)
	other, err := srv.PutValue(tgt.Name, v.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	ver, err := a.Put(ctx, tgt, v, awsTestMeta, prev)
	if err != nil {
		t.Fatalf("Put with a stale prev but the same value: %v", err)
	}
	if ver != other || srv.Versions(tgt.Name) != 2 {
		t.Errorf("version %q (want %q), %d versions (want 2)", ver, other, srv.Versions(tgt.Name))
	}
}

// TestAWSConflict changes the secret between Get and Put.
func TestAWSConflict(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing bool
		other    func(t *testing.T, srv *asmfake.Server, a *awsBackend, name string)
	}{
		{
			name:     "another writer put a version",
			existing: true,
			other: func(t *testing.T, srv *asmfake.Server, _ *awsBackend, name string) {
				if _, err := srv.PutValue(name, "someone else"); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "another writer created the secret",
			other: func(t *testing.T, _ *asmfake.Server, a *awsBackend, name string) {
				if _, err := a.Put(t.Context(), plan.Target{Name: name}, secret.New("someone else"), Metadata{PlanID: "other"}, Current{}); err != nil {
					t.Fatal(err)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, a := startAWS(t, asmfake.Options{})
			ctx := t.Context()
			tgt := plan.Target{Name: "prod/conflicted"}
			if tc.existing {
				if _, err := a.Put(ctx, tgt, cloudCanary(t), Metadata{}, Current{}); err != nil {
					t.Fatal(err)
				}
			}
			prev, err := a.Get(ctx, tgt)
			if err != nil {
				t.Fatal(err)
			}
			tc.other(t, srv, a, tgt.Name)
			before := srv.Versions(tgt.Name)
			v := cloudCanary(t)
			_, err = a.Put(ctx, tgt, v, awsTestMeta, prev)
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("Put = %v, want ErrConflict", err)
			}
			cloudNoLeak(t, "the conflict error", err.Error(), v)
			if n := srv.Versions(tgt.Name); n != before {
				t.Errorf("versions went from %d to %d on a conflict", before, n)
			}
		})
	}
}

// TestAWSRetries injects throttling and server errors; every write still
// lands exactly once.
func TestAWSRetries(t *testing.T) {
	throttle := asmfake.Fault{Status: 429, Type: "ThrottlingException"}
	internal := asmfake.Fault{Status: 500, Type: "InternalServiceError"}
	for _, tc := range []struct {
		op     string
		fault  asmfake.Fault
		n      int
		after  bool
		update bool // the secret exists, so Put uses PutSecretValue
	}{
		{"ListSecrets", throttle, 2, false, false},
		{"GetSecretValue", throttle, 3, false, false},
		{"GetSecretValue", internal, 2, false, false},
		{"CreateSecret", throttle, 2, false, false},
		{"CreateSecret", internal, 1, true, false},
		{"PutSecretValue", throttle, 2, false, true},
		{"PutSecretValue", internal, 3, false, true},
		{"PutSecretValue", internal, 1, true, true},
	} {
		t.Run(fmt.Sprintf("%s/%s*%d/after=%v", tc.op, tc.fault.Type, tc.n, tc.after), func(t *testing.T) {
			srv, a := startAWS(t, asmfake.Options{})
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			tgt := plan.Target{Name: "prod/flaky"}
			wantVersions := 1
			if tc.update {
				if _, err := a.Put(ctx, tgt, cloudCanary(t), Metadata{}, Current{}); err != nil {
					t.Fatal(err)
				}
				wantVersions = 2
			}
			if tc.after {
				srv.FailAfter(tc.op, tc.fault, tc.n)
			} else {
				srv.FailNext(tc.op, tc.fault, tc.n)
			}
			if err := a.Check(ctx); err != nil {
				t.Fatalf("Check: %v", err)
			}
			v := cloudCanary(t)
			prev, err := a.Get(ctx, tgt)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			ver, err := a.Put(ctx, tgt, v, awsTestMeta, prev)
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			got, err := a.Get(ctx, tgt)
			if err != nil || !got.Value.Equal(v) || got.Version != ver {
				t.Errorf("read back: version %q (want %q), equal %v, err %v", got.Version, ver, got.Value.Equal(v), err)
			}
			if n := srv.Versions(tgt.Name); n != wantVersions {
				t.Errorf("%d versions, want exactly %d", n, wantVersions)
			}
			if n := srv.Calls(tc.op); n <= tc.n {
				t.Errorf("%s called %d times; the faults were not retried", tc.op, n)
			}
		})
	}
}

// TestAWSErrors checks the messages users get for setup problems.
func TestAWSErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T) error
		want []string
	}{
		{
			name: "no credentials",
			run: func(t *testing.T) error {
				awsEnv(t, false)
				srv, err := asmfake.Start(asmfake.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				b, err := Open(t.Context(), plan.Backend{Kind: plan.BackendAWS}, Options{Endpoint: srv.URL()})
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
				defer cancel()
				err = b.Check(ctx)
				if n := srv.Calls("ListSecrets"); n != 0 {
					t.Errorf("an unsigned request reached the server")
				}
				return err
			},
			want: []string{"no usable AWS credentials", "AWS_ACCESS_KEY_ID"},
		},
		{
			name: "credentials refused",
			run: func(t *testing.T) error {
				_, a := startAWS(t, asmfake.Options{AccessKeyID: "some-other-key"})
				return a.Check(t.Context())
			},
			want: []string{"refused the credentials", "UnrecognizedClientException"},
		},
		{
			name: "unreachable endpoint",
			run: func(t *testing.T) error {
				awsEnv(t, true)
				a, err := openAWSWith(t.Context(), plan.Backend{Kind: plan.BackendAWS}, Options{Endpoint: "http://" + cloudClosedAddr(t)}, awsFastBackoff)
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				defer cancel()
				return a.Check(ctx)
			},
			want: []string{"could not reach AWS Secrets Manager at http://127.0.0.1:"},
		},
		{
			name: "no region",
			run: func(t *testing.T) error {
				_, a := startAWS(t, asmfake.Options{})
				a.region = ""
				_, err := a.Get(t.Context(), plan.Target{Name: "x"})
				return err
			},
			want: []string{"no AWS region"},
		},
		{
			name: "bad name",
			run: func(t *testing.T) error {
				_, a := startAWS(t, asmfake.Options{})
				_, err := a.Get(t.Context(), plan.Target{Name: "has space"})
				return err
			},
			want: []string{"not a valid Secrets Manager secret name"},
		},
		{
			name: "scheduled for deletion",
			run: func(t *testing.T) error {
				srv, a := startAWS(t, asmfake.Options{})
				tgt := plan.Target{Name: "prod/old"}
				if _, err := a.Put(t.Context(), tgt, cloudCanary(t), Metadata{}, Current{}); err != nil {
					t.Fatal(err)
				}
				srv.ScheduleDeletion(tgt.Name)
				_, err := a.Get(t.Context(), tgt)
				return err
			},
			want: []string{"scheduled for deletion", "restore-secret"},
		},
		{
			name: "empty value",
			run: func(t *testing.T) error {
				_, a := startAWS(t, asmfake.Options{})
				_, err := a.Put(t.Context(), plan.Target{Name: "x"}, secret.Value{}, Metadata{}, Current{})
				return err
			},
			want: []string{"refusing to store an empty value"},
		},
		{
			name: "throttled for good",
			run: func(t *testing.T) error {
				srv, a := startAWS(t, asmfake.Options{})
				srv.FailNext("GetSecretValue", asmfake.Fault{Status: 429, Type: "ThrottlingException"}, 100)
				_, err := a.Get(t.Context(), plan.Target{Name: "x"})
				if n := srv.Calls("GetSecretValue"); n != 5 {
					t.Errorf("%d attempts, want 5", n)
				}
				return err
			},
			want: []string{"is throttling requests"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(t)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("message: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestAWSTagValue(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"billing-api", "billing-api"},
		{"alice@example.com", "alice@example.com"},
		{"@acme/ml team", "@acme/ml team"},
		{"a,b;c", "a_b_c"},
		{"Zürich", "Zürich"},
		{strings.Repeat("x", 300), strings.Repeat("x", 256)},
	} {
		if got := awsTagValue(tc.in, 256); got != tc.want {
			t.Errorf("awsTagValue(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestAWSCanary drives every path that produces errors or logs with a
// canary value.
func TestAWSCanary(t *testing.T) {
	logs := cloudLogs(t)
	srv, a := startAWS(t, asmfake.Options{})
	ctx := t.Context()
	tgt := plan.Target{Name: "prod/canary"}
	v1, v2 := cloudCanary(t), cloudCanary(t)
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error(), fmt.Sprintf("%+v %#v", err, err))
		}
	}
	srv.FailNext("CreateSecret", asmfake.Fault{Status: 500, Type: "InternalServiceError"}, 2)
	_, err := a.Put(ctx, tgt, v1, awsTestMeta, Current{})
	note(err)
	prev, err := a.Get(ctx, tgt)
	note(err)
	if _, err := srv.PutValue(tgt.Name, v2.Reveal()); err != nil {
		t.Fatal(err)
	}
	_, err = a.Put(ctx, tgt, v1, awsTestMeta, prev) // conflict
	note(err)
	srv.FailNext("PutSecretValue", asmfake.Fault{Status: 400, Type: "InvalidRequestException"}, 1)
	prev, _ = a.Get(ctx, tgt)
	_, err = a.Put(ctx, tgt, v1, awsTestMeta, prev) // rejected
	note(err)
	srv.FailNext("PutSecretValue", asmfake.Fault{Status: 429, Type: "ThrottlingException"}, 100)
	_, err = a.Put(ctx, tgt, v1, awsTestMeta, prev) // gives up
	note(err)
	if len(errs) != 6 {
		t.Fatalf("expected three failures, got %d error texts", len(errs))
	}
	cloudNoLeak(t, "errors", strings.Join(errs, "\n"), v1, v2)
	cloudNoLeak(t, "logs", logs.String(), v1, v2)
}

// TestAWSFakeRejectsBadTags shows the stand-in enforces Secrets Manager's
// tag rules, so the tag tests above mean something.
func TestAWSFakeRejectsBadTags(t *testing.T) {
	_, a := startAWS(t, asmfake.Options{})
	c, _, err := a.client("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []types.Tag{
		{Key: aws.String("owner"), Value: aws.String("a,b")},
		{Key: aws.String("aws:owner"), Value: aws.String("a")},
		{Key: aws.String("owner"), Value: aws.String(strings.Repeat("a", 257))},
	} {
		_, err := c.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{
			Name: aws.String("tagged"), SecretString: aws.String("x"), Tags: []types.Tag{tag},
		})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" {
			t.Errorf("tag %s=%s: %v, want ValidationException", *tag.Key, *tag.Value, err)
		}
	}
}

// TestAWSTargetRegion sends each target to its own region (the fake
// builds ARNs from the region the request was signed for).
func TestAWSTargetRegion(t *testing.T) {
	_, a := startAWS(t, asmfake.Options{})
	ctx := t.Context()
	for _, tc := range []struct{ region, want string }{
		{"", awsTestRegion},
		{"us-east-1", "us-east-1"},
		{"ap-southeast-2", "ap-southeast-2"},
	} {
		tgt := plan.Target{Region: tc.region, Name: "prod/in-" + tc.want}
		if _, err := a.Put(ctx, tgt, cloudCanary(t), Metadata{}, Current{}); err != nil {
			t.Fatalf("%s: %v", tc.want, err)
		}
		c, _, err := a.client(tc.region)
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(tgt.Name)})
		if err != nil {
			t.Fatal(err)
		}
		if arn := aws.ToString(out.ARN); !strings.Contains(arn, ":"+tc.want+":") {
			t.Errorf("target region %q: ARN %q", tc.region, arn)
		}
	}
}
