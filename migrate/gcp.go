package migrate

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	gax "github.com/googleapis/gax-go/v2"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// gcpCallTimeout bounds every Secret Manager call: the client library
// retries transient errors until the context deadline, so without one a
// dead endpoint would hang a migration forever.
const gcpCallTimeout = 30 * time.Second

// gcpAddAttempts bounds how often one AddSecretVersion is tried.
const gcpAddAttempts = 5

// gcpBackend stores secrets in Google Secret Manager, one secret per
// target, the value as the payload of its newest version.
type gcpBackend struct {
	client   *secretmanager.Client
	project  string // default project for targets without one
	endpoint string // for messages
	timeout  time.Duration
	backoff  gax.Backoff
}

// openGCP connects to Google Secret Manager with Application Default
// Credentials, or without authentication to a loopback Options.Endpoint
// (a local stand-in server).
func openGCP(ctx context.Context, b plan.Backend, opts Options) (Backend, error) {
	g := &gcpBackend{
		project:  b.Project,
		endpoint: "secretmanager.googleapis.com:443",
		timeout:  gcpCallTimeout,
		backoff:  gax.Backoff{Initial: 250 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2},
	}
	if g.project == "" {
		g.project = os.Getenv("GOOGLE_CLOUD_PROJECT")
	}
	// A client logger that drops everything: the library's debug logging
	// (GOOGLE_SDK_GO_LOGGING_LEVEL=debug) would print request payloads.
	copts := []option.ClientOption{
		option.WithLogger(slog.New(slog.DiscardHandler)),
		option.WithTelemetryDisabled(),
	}
	if ep := opts.Endpoint; ep != "" {
		host := cloudEndpointHost(ep)
		g.endpoint = host
		copts = append(copts, option.WithEndpoint(host))
		if cloudIsLoopback(host) {
			copts = append(copts,
				option.WithoutAuthentication(),
				option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
		}
	}
	c, err := secretmanager.NewClient(ctx, copts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to Google Secret Manager: %w%s", err, gcpCredentialHint(err))
	}
	retry := func() gax.Retryer {
		return gax.OnCodes([]codes.Code{codes.Unavailable, codes.ResourceExhausted}, g.backoff)
	}
	// Reads and the secret creation (AlreadyExists on a repeat) are safe to
	// retry; AddSecretVersion is not, so Put retries it itself.
	c.CallOptions.AccessSecretVersion = []gax.CallOption{gax.WithRetry(retry)}
	c.CallOptions.GetSecret = []gax.CallOption{gax.WithRetry(retry)}
	c.CallOptions.ListSecrets = []gax.CallOption{gax.WithRetry(retry)}
	c.CallOptions.CreateSecret = []gax.CallOption{gax.WithRetry(retry)}
	c.CallOptions.AddSecretVersion = nil
	g.client = c
	return g, nil
}

// gcpCredentialHint tells the user how to fix a credentials error.
func gcpCredentialHint(err error) string {
	if strings.Contains(err.Error(), "credentials") {
		return " (Google Application Default Credentials are needed: run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file)"
	}
	return ""
}

// Kind implements Backend.
func (g *gcpBackend) Kind() string { return plan.BackendGCP }

// Close releases the connection.
func (g *gcpBackend) Close() error { return g.client.Close() }

// Check lists at most one secret of the project: cheap, and it proves the
// endpoint answers and the credentials are accepted.
func (g *gcpBackend) Check(ctx context.Context) error {
	if g.project == "" {
		return errors.New("the gcp backend needs a project: set backend.project in the plan (or GOOGLE_CLOUD_PROJECT)")
	}
	if err := checkGCPProject(g.project); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	it := g.client.ListSecrets(ctx, &secretmanagerpb.ListSecretsRequest{Parent: "projects/" + g.project, PageSize: 1})
	if _, err := it.Next(); err != nil && !errors.Is(err, iterator.Done) {
		return g.describe(err, "listing secrets in project "+g.project)
	}
	return nil
}

var (
	gcpSecretIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	gcpProjectRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9.:-]{0,127}$`)
)

func checkGCPProject(p string) error {
	if !gcpProjectRe.MatchString(p) {
		return fmt.Errorf("%q is not a Google Cloud project id", p)
	}
	return nil
}

// secretName returns projects/P/secrets/S for t.
func (g *gcpBackend) secretName(t plan.Target) (string, error) {
	p := t.Project
	if p == "" {
		p = g.project
	}
	if p == "" {
		return "", fmt.Errorf("secret %q has no project: set target.project or backend.project in the plan", t.SecretID)
	}
	if err := checkGCPProject(p); err != nil {
		return "", err
	}
	if !gcpSecretIDRe.MatchString(t.SecretID) {
		return "", fmt.Errorf("%q is not a valid Secret Manager secret id (1-255 letters, digits, - and _)", t.SecretID)
	}
	return "projects/" + p + "/secrets/" + t.SecretID, nil
}

// Get implements Backend: it reads the newest version.
func (g *gcpBackend) Get(ctx context.Context, t plan.Target) (Current, error) {
	name, err := g.secretName(t)
	if err != nil {
		return Current{}, err
	}
	return g.latest(ctx, name)
}

func (g *gcpBackend) latest(ctx context.Context, name string) (Current, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	resp, err := g.client.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: name + "/versions/latest"})
	switch status.Code(err) {
	case codes.OK:
	case codes.NotFound:
		return Current{}, nil
	case codes.FailedPrecondition:
		return Current{}, fmt.Errorf("the newest version of %s is disabled or destroyed; enable it or add a version by hand, then retry: %w", name, err)
	default:
		return Current{}, g.describe(err, "reading "+name)
	}
	data := resp.GetPayload().GetData()
	if c := resp.GetPayload().DataCrc32C; c != nil && int64(crc32.Checksum(data, gcpCRC)) != *c {
		return Current{}, fmt.Errorf("reading %s: the payload was corrupted in transit (checksum mismatch); retry", name)
	}
	return Current{Exists: true, Value: secret.New(string(data)), Version: resp.GetName()}, nil
}

var gcpCRC = crc32.MakeTable(crc32.Castagnoli)

// Put implements Backend. It creates the secret when missing and adds a
// version only when the value differs from the newest one, because every
// version is billed. When the newest version is no longer prev.Version
// (and does not already hold v) it refuses with ErrConflict. Secret Manager has no conditional write, so a
// writer racing between that check and the write can still win; the
// read-back that follows a migration catches it.
func (g *gcpBackend) Put(ctx context.Context, t plan.Target, v secret.Value, m Metadata, prev Current) (string, error) {
	name, err := g.secretName(t)
	if err != nil {
		return "", err
	}
	if v.IsZero() {
		return "", fmt.Errorf("refusing to store an empty value in %s", name)
	}
	cur, err := g.latest(ctx, name)
	if err != nil {
		return "", err
	}
	// Already holding v is success whatever changed since prev: nothing
	// would be overwritten, and a resumed run lands here.
	if cur.Exists && cur.Value.Equal(v) {
		return cur.Version, nil
	}
	if !cloudSameVersion(prev, cur) {
		return "", fmt.Errorf("%s: %w (read %s, now %s)", name, ErrConflict, cloudVersionOrNone(prev), cloudVersionOrNone(cur))
	}
	if !cur.Exists {
		created, err := g.ensureSecret(ctx, name, m)
		if err != nil {
			return "", err
		}
		if !created {
			// Someone else created it since we read: look again.
			now, err := g.latest(ctx, name)
			if err != nil {
				return "", err
			}
			if now.Exists && now.Value.Equal(v) {
				return now.Version, nil
			}
			if !cloudSameVersion(cur, now) {
				return "", fmt.Errorf("%s: %w (read %s, now %s)", name, ErrConflict, cloudVersionOrNone(cur), cloudVersionOrNone(now))
			}
		}
	}
	return g.addVersion(ctx, name, v, cur)
}

// addVersion adds v as a new version of name. A failed attempt may still
// have landed, so before trying again it reads the newest version: if it
// holds v the earlier attempt won, if it moved elsewhere it is a conflict.
func (g *gcpBackend) addVersion(ctx context.Context, name string, v secret.Value, cur Current) (string, error) {
	data := []byte(v.Reveal())
	crc := int64(crc32.Checksum(data, gcpCRC))
	req := &secretmanagerpb.AddSecretVersionRequest{
		Parent:  name,
		Payload: &secretmanagerpb.SecretPayload{Data: data, DataCrc32C: &crc},
	}
	bo := g.backoff
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, g.timeout)
		resp, err := g.client.AddSecretVersion(cctx, req)
		cancel()
		if err == nil {
			return resp.GetName(), nil
		}
		if !gcpRetryable(err) || attempt >= gcpAddAttempts {
			return "", g.describe(err, "adding a version to "+name)
		}
		slog.Debug("retrying a Secret Manager write", "secret", name, "attempt", attempt, "code", status.Code(err).String())
		if err := cloudSleep(ctx, bo.Pause()); err != nil {
			return "", fmt.Errorf("adding a version to %s: %w", name, err)
		}
		now, err := g.latest(ctx, name)
		if err != nil {
			return "", err
		}
		if now.Exists && now.Value.Equal(v) {
			return now.Version, nil
		}
		if !cloudSameVersion(cur, now) {
			return "", fmt.Errorf("%s: %w (read %s, now %s)", name, ErrConflict, cloudVersionOrNone(cur), cloudVersionOrNone(now))
		}
	}
}

// ensureSecret creates the secret with labels and annotations from m and
// automatic replication. It reports false when it already existed.
func (g *gcpBackend) ensureSecret(ctx context.Context, name string, m Metadata) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	i := strings.LastIndex(name, "/secrets/")
	_, err := g.client.CreateSecret(ctx, &secretmanagerpb.CreateSecretRequest{
		Parent:   name[:i],
		SecretId: name[i+len("/secrets/"):],
		Secret: &secretmanagerpb.Secret{
			Replication: &secretmanagerpb.Replication{
				Replication: &secretmanagerpb.Replication_Automatic_{Automatic: &secretmanagerpb.Replication_Automatic{}},
			},
			Labels:      gcpLabels(m),
			Annotations: gcpAnnotations(m),
		},
	})
	switch status.Code(err) {
	case codes.OK:
		return true, nil
	case codes.AlreadyExists:
		return false, nil
	default:
		return false, g.describe(err, "creating "+name)
	}
}

// gcpLabels turns m into labels that follow Secret Manager's rules
// (lower-case letters, digits, - and _, at most 63 characters).
func gcpLabels(m Metadata) map[string]string {
	l := map[string]string{"managed-by": "env2vault"}
	for k, v := range map[string]string{
		"service":     m.Service,
		"environment": m.Environment,
		"owner":       m.Owner,
		"plan-id":     m.PlanID,
	} {
		if s := gcpLabelValue(v); s != "" {
			l[k] = s
		}
	}
	return l
}

// gcpLabelValue lower-cases s, turns every run of other characters into
// one "-", trims dashes and cuts it to 63 characters.
func gcpLabelValue(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-")
	}
	return out
}

// gcpAnnotations keeps the unsanitised metadata, which labels cannot hold.
// Annotations are limited to 16 KiB in all, so long source lists are cut.
func gcpAnnotations(m Metadata) map[string]string {
	a := map[string]string{}
	for k, v := range map[string]string{
		"env2vault-name":  m.Name,
		"env2vault-owner": m.Owner,
		"env2vault-plan":  m.PlanID,
	} {
		if v != "" {
			a[k] = cloudTruncate(v, 1024)
		}
	}
	if len(m.Sources) > 0 {
		a["env2vault-sources"] = cloudJoinLimited(m.Sources, ", ", 8*1024)
	}
	return a
}

func gcpRetryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.Internal:
		return true
	}
	return false
}

// describe phrases a Secret Manager error for the user. Status messages
// come from the service, which never echoes payloads.
func (g *gcpBackend) describe(err error, doing string) error {
	var hint string
	switch status.Code(err) {
	case codes.Unauthenticated:
		hint = "Google Secret Manager refused the credentials; run `gcloud auth application-default login` or check GOOGLE_APPLICATION_CREDENTIALS"
	case codes.PermissionDenied:
		hint = "permission denied; the account needs roles/secretmanager.admin, or secretmanager.secrets.create, versions.add and versions.access on the project"
	case codes.NotFound:
		hint = "not found; check the project id and that the Secret Manager API is enabled for it"
	case codes.DeadlineExceeded, codes.Unavailable, codes.Canceled:
		hint = "could not reach Google Secret Manager at " + g.endpoint + " in time; check the network, the endpoint and the credentials"
	case codes.ResourceExhausted:
		hint = "Google Secret Manager quota exceeded; retry later"
	case codes.InvalidArgument:
		hint = "Google Secret Manager rejected the request"
	default:
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			hint = "could not reach Google Secret Manager at " + g.endpoint + " in time"
		} else if strings.Contains(err.Error(), "credentials") {
			hint = "no usable Google credentials" + gcpCredentialHint(err)
		}
	}
	if hint == "" {
		return fmt.Errorf("%s: %w", doing, err)
	}
	return fmt.Errorf("%s: %s: %w", doing, hint, err)
}
