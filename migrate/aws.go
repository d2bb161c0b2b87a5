package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// awsCallTimeout bounds every Secrets Manager call, its retries included.
const awsCallTimeout = 30 * time.Second

// awsCurrent is the staging label of the version clients read.
const awsCurrent = "AWSCURRENT"

// awsBackend stores secrets in AWS Secrets Manager, one secret per target,
// the value as the SecretString of its AWSCURRENT version.
type awsBackend struct {
	cfg      aws.Config
	region   string // default region for targets without one
	endpoint string // BaseEndpoint override, "" for AWS's own
	timeout  time.Duration

	mu      sync.Mutex
	clients map[string]*secretsmanager.Client // by region
}

// openAWS uses the SDK's default credential chain (environment, shared
// config and credentials files, SSO, web identity, container and instance
// roles) and Options.Endpoint as the base endpoint when set.
func openAWS(ctx context.Context, b plan.Backend, opts Options) (Backend, error) {
	return openAWSWith(ctx, b, opts, nil)
}

// openAWSWith is openAWS with the retry backoff replaced (tests); nil
// keeps the SDK's.
func openAWSWith(ctx context.Context, b plan.Backend, opts Options, backoff retry.BackoffDelayer) (*awsBackend, error) {
	lo := []func(*config.LoadOptions) error{
		// The SDK logs nothing by default; make sure nothing turns
		// request or response body logging on.
		config.WithLogger(logging.Nop{}),
		config.WithClientLogMode(0),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 5
				if backoff != nil {
					o.Backoff = backoff
				}
			})
		}),
	}
	if b.Region != "" {
		lo = append(lo, config.WithRegion(b.Region))
	}
	if opts.HTTPClient != nil {
		lo = append(lo, config.WithHTTPClient(opts.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration (AWS_PROFILE, ~/.aws/config): %w", err)
	}
	a := &awsBackend{cfg: cfg, region: cfg.Region, timeout: awsCallTimeout, clients: map[string]*secretsmanager.Client{}}
	if ep := opts.Endpoint; ep != "" {
		if !strings.Contains(ep, "://") {
			scheme := "https://"
			if cloudIsLoopback(ep) {
				scheme = "http://"
			}
			ep = scheme + ep
		}
		a.endpoint = ep
	}
	return a, nil
}

// Kind implements Backend.
func (a *awsBackend) Kind() string { return plan.BackendAWS }

// client returns the client for region (the default one when empty).
func (a *awsBackend) client(region string) (*secretsmanager.Client, string, error) {
	if region == "" {
		region = a.region
	}
	if region == "" {
		return nil, "", errors.New("no AWS region: set backend.region (or target.region) in the plan, or AWS_REGION")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[region]; ok {
		return c, region, nil
	}
	c := secretsmanager.NewFromConfig(a.cfg, func(o *secretsmanager.Options) {
		o.Region = region
		if a.endpoint != "" {
			o.BaseEndpoint = aws.String(a.endpoint)
		}
	})
	a.clients[region] = c
	return c, region, nil
}

// where names the service for messages.
func (a *awsBackend) where(region string) string {
	if a.endpoint != "" {
		return "AWS Secrets Manager at " + a.endpoint
	}
	return "AWS Secrets Manager in " + region
}

// credentials fails clearly when the default chain finds no credentials.
// The chain caches what it finds, so this costs nothing after the first call.
func (a *awsBackend) credentials(ctx context.Context) error {
	if a.cfg.Credentials == nil {
		return errors.New("no AWS credentials configured")
	}
	if _, err := a.cfg.Credentials.Retrieve(ctx); err != nil {
		return fmt.Errorf("no usable AWS credentials (set AWS_PROFILE, run `aws sso login`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY): %w", err)
	}
	return nil
}

// Check lists at most one secret: cheap, and it proves the endpoint
// answers and the credentials are accepted.
func (a *awsBackend) Check(ctx context.Context) error {
	c, region, err := a.client("")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	if err := a.credentials(ctx); err != nil {
		return err
	}
	if _, err := c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(1)}); err != nil {
		return a.describe(err, region, "listing secrets")
	}
	return nil
}

var awsNameRe = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

func checkAWSName(n string) error {
	if !awsNameRe.MatchString(n) {
		return fmt.Errorf("%q is not a valid Secrets Manager secret name (1-512 letters, digits and /_+=.@-)", n)
	}
	return nil
}

// Get implements Backend: it reads the AWSCURRENT version.
func (a *awsBackend) Get(ctx context.Context, t plan.Target) (Current, error) {
	if err := checkAWSName(t.Name); err != nil {
		return Current{}, err
	}
	c, region, err := a.client(t.Region)
	if err != nil {
		return Current{}, err
	}
	return a.current(ctx, c, region, t.Name)
}

func (a *awsBackend) current(ctx context.Context, c *secretsmanager.Client, region, name string) (Current, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	if err := a.credentials(ctx); err != nil {
		return Current{}, err
	}
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return Current{}, nil
	}
	if err != nil {
		return Current{}, a.describe(err, region, "reading "+name)
	}
	var v secret.Value
	switch {
	case out.SecretString != nil:
		v = secret.New(*out.SecretString)
	case out.SecretBinary != nil:
		v = secret.New(string(out.SecretBinary))
	}
	return Current{Exists: true, Value: v, Version: aws.ToString(out.VersionId)}, nil
}

// Put implements Backend. It creates the secret when missing and writes a
// version only when the value differs from AWSCURRENT. When AWSCURRENT is
// no longer prev.Version (and does not already hold v) it refuses with
// ErrConflict. Writes carry a
// request token derived from the plan id, the name and the version they
// replace, so a repeated or resumed write of the same plan step is a no-op
// in AWS rather than a duplicate version. Secrets Manager has no
// conditional write, so a writer racing between the check and the write
// can still win; the read-back that follows a migration catches it.
func (a *awsBackend) Put(ctx context.Context, t plan.Target, v secret.Value, m Metadata, prev Current) (string, error) {
	if err := checkAWSName(t.Name); err != nil {
		return "", err
	}
	if v.IsZero() {
		return "", fmt.Errorf("refusing to store an empty value in %s", t.Name)
	}
	c, region, err := a.client(t.Region)
	if err != nil {
		return "", err
	}
	cur, err := a.current(ctx, c, region, t.Name)
	if err != nil {
		return "", err
	}
	// Already holding v is success whatever changed since prev: nothing
	// would be overwritten, and a resumed run lands here.
	if cur.Exists && cur.Value.Equal(v) {
		return cur.Version, nil
	}
	if !cloudSameVersion(prev, cur) {
		return "", fmt.Errorf("%s: %w (read %s, now %s)", t.Name, ErrConflict, cloudVersionOrNone(prev), cloudVersionOrNone(cur))
	}
	token := awsRequestToken(m.PlanID, region, t.Name, cur.Version)
	if !cur.Exists {
		id, err := a.create(ctx, c, region, t.Name, v, m, token)
		var exists *types.ResourceExistsException
		if !errors.As(err, &exists) {
			return id, err
		}
		// The secret exists but had no current value, or someone created
		// it since we read: look again.
		now, err := a.current(ctx, c, region, t.Name)
		if err != nil {
			return "", err
		}
		if now.Exists && now.Value.Equal(v) {
			return now.Version, nil
		}
		if !cloudSameVersion(cur, now) {
			return "", fmt.Errorf("%s: %w (read %s, now %s)", t.Name, ErrConflict, cloudVersionOrNone(cur), cloudVersionOrNone(now))
		}
	}
	return a.putValue(ctx, c, region, t.Name, v, token)
}

// create makes the secret with its first version. It returns the raw
// *types.ResourceExistsException when the name is taken.
func (a *awsBackend) create(ctx context.Context, c *secretsmanager.Client, region, name string, v secret.Value, m Metadata, token string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	out, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:               aws.String(name),
		SecretString:       aws.String(v.Reveal()),
		ClientRequestToken: aws.String(token),
		Description:        aws.String(awsDescription(m)),
		Tags:               awsTags(m),
	})
	var exists *types.ResourceExistsException
	if errors.As(err, &exists) {
		return "", exists
	}
	if err != nil {
		return "", a.describe(err, region, "creating "+name)
	}
	return aws.ToString(out.VersionId), nil
}

// putValue writes v as the new AWSCURRENT version of name.
func (a *awsBackend) putValue(ctx context.Context, c *secretsmanager.Client, region, name string, v secret.Value, token string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	out, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(name),
		SecretString:       aws.String(v.Reveal()),
		ClientRequestToken: aws.String(token),
	})
	var exists *types.ResourceExistsException
	if errors.As(err, &exists) {
		return "", fmt.Errorf("writing %s: an earlier write of this plan step stored a different value (request token %s); re-run `env2vault plan` so the plan matches the sources: %w", name, token, err)
	}
	if err != nil {
		return "", a.describe(err, region, "writing "+name)
	}
	// A repeated token is a no-op in AWS; if that version is no longer
	// current (someone moved AWSCURRENT back), nothing changed.
	if !slices.Contains(out.VersionStages, awsCurrent) {
		return "", fmt.Errorf("writing %s: version %s already exists but is not %s (was the label moved back by hand?); move it with `aws secretsmanager update-secret-version-stage`, or re-plan", name, aws.ToString(out.VersionId), awsCurrent)
	}
	return aws.ToString(out.VersionId), nil
}

// awsRequestToken derives the ClientRequestToken (which becomes the
// VersionId) for writing over version prev: the same plan step always
// gets the same token. Without a plan id the token still pins the name
// and the version replaced.
func awsRequestToken(planID, region, name, prev string) string {
	h := sha256.Sum256([]byte("env2vault/aws/v1\x00" + planID + "\x00" + region + "\x00" + name + "\x00" + prev))
	s := hex.EncodeToString(h[:16])
	// UUID layout, version 8 (custom), RFC 9562 variant.
	b := []byte(s)
	b[12] = '8'
	b[16] = "89ab"[h[8]>>6]
	return string(b[0:8]) + "-" + string(b[8:12]) + "-" + string(b[12:16]) + "-" + string(b[16:20]) + "-" + string(b[20:32])
}

// awsTagBadRe matches characters AWS does not allow in tags.
var awsTagBadRe = regexp.MustCompile(`[^\p{L}\p{Z}\p{N}_.:/=+\-@]+`)

// awsTagValue replaces characters tags cannot hold with "_" and cuts the
// result to n bytes.
func awsTagValue(s string, n int) string {
	return strings.TrimSpace(cloudTruncate(awsTagBadRe.ReplaceAllString(s, "_"), n))
}

// awsTags turns m into tags that follow Secrets Manager's rules.
func awsTags(m Metadata) []types.Tag {
	tags := []types.Tag{{Key: aws.String("env2vault:managed-by"), Value: aws.String("env2vault")}}
	for _, kv := range [][2]string{
		{"env2vault:name", m.Name},
		{"env2vault:service", m.Service},
		{"env2vault:environment", m.Environment},
		{"env2vault:owner", m.Owner},
		{"env2vault:plan-id", m.PlanID},
	} {
		if v := awsTagValue(kv[1], 256); v != "" {
			tags = append(tags, types.Tag{Key: aws.String(kv[0]), Value: aws.String(v)})
		}
	}
	return tags
}

// awsDescription names the secret's origin; descriptions hold at most
// 2048 characters.
func awsDescription(m Metadata) string {
	d := "Managed by env2vault"
	if m.Name != "" {
		d += ": " + m.Name
	}
	if len(m.Sources) > 0 {
		d += ". Sources: " + cloudJoinLimited(m.Sources, ", ", 2000-len(d))
	}
	return cloudTruncate(d, 2048)
}

// describe phrases a Secrets Manager error for the user. AWS error
// messages never echo secret values.
func (a *awsBackend) describe(err error, region, doing string) error {
	var hint string
	var apiErr smithy.APIError
	var netErr net.Error
	switch {
	case errors.As(err, &apiErr):
		switch apiErr.ErrorCode() {
		case "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature", "ExpiredTokenException", "InvalidClientTokenId":
			hint = a.where(region) + " refused the credentials; check AWS_PROFILE or the access keys, or run `aws sso login`"
		case "AccessDeniedException":
			hint = "access denied; the identity needs secretsmanager:CreateSecret, PutSecretValue, GetSecretValue, TagResource and ListSecrets"
		case "InvalidRequestException":
			if strings.Contains(strings.ToLower(apiErr.ErrorMessage()), "deletion") {
				hint = "the secret is scheduled for deletion; restore it with `aws secretsmanager restore-secret` or pick another name"
			} else {
				hint = a.where(region) + " refused the request"
			}
		case "ThrottlingException", "LimitExceededException":
			hint = a.where(region) + " is throttling requests; retry later"
		case "DecryptionFailure", "EncryptionFailure":
			hint = "the secret's KMS key cannot be used by this identity"
		}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.As(err, &netErr):
		hint = "could not reach " + a.where(region) + "; check the network, the region and the endpoint"
	}
	if hint == "" {
		return fmt.Errorf("%s: %w", doing, err)
	}
	return fmt.Errorf("%s: %s: %w", doing, hint, err)
}
