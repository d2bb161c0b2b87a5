// Package verify implements `env2vault verify`.
package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
	"github.com/env2vault/env2vault/verify"
)

// Options are the verify command's settings.
type Options struct {
	IO           *cli.IOStreams
	PlanFile     string
	Format       string
	InsecureHTTP bool
	// Endpoint overrides the GCP/AWS endpoint (tests, VPC endpoints).
	Endpoint string
}

// NewCmd returns the `verify` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "verify --plan FILE",
		Short: "Check that a migration is complete and nothing is left behind",
		Long: `Verify checks, for every secret in the plan:
  - the backend holds it, with the value the plan's fingerprint names;
  - no file in the repos' working trees still holds the value
    (frontend keys that rewrite flags are warnings);
  - no code still reads the migrated variable from the environment.
It lists what fails and exits 1 when anything does (2 when it cannot check).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.PlanFile, "plan", "", "plan file (required)")
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text or json")
	cmd.Flags().BoolVar(&opts.InsecureHTTP, "insecure-http", false, "allow plain http:// to a non-loopback Vault")
	cmd.Flags().StringVar(&opts.Endpoint, "endpoint", "", "GCP or AWS endpoint override")
	_ = cmd.MarkFlagRequired("plan")
	return cmd
}

// Run performs the checks and prints the report.
func Run(ctx context.Context, opts *Options) error {
	fail := func(err error) error { return &cli.ExitError{Code: cli.ExitFailure, Err: err} }
	if opts.Format != "text" && opts.Format != "json" {
		return fail(fmt.Errorf("unknown --format %q (want text or json)", opts.Format))
	}
	p, err := plan.Load(opts.PlanFile)
	if err != nil {
		return fail(err)
	}
	fp, err := secret.LoadFingerprinter()
	if err != nil {
		return fail(err)
	}
	b, err := migrate.Open(ctx, p.Backend, migrate.Options{AllowInsecureHTTP: opts.InsecureHTTP, Endpoint: opts.Endpoint})
	if err != nil {
		return fail(err)
	}
	rep, err := verify.Run(ctx, p, verify.Options{
		Backend:       b,
		Fingerprinter: fp,
		Reads:         ScanReads(p, fp),
	})
	if err != nil {
		return fail(err)
	}
	if opts.Format == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fail(err)
		}
	} else {
		WriteText(opts.IO.Out, rep)
	}
	if !rep.OK() {
		return cli.Exit(cli.ExitFound)
	}
	return nil
}

// ScanReads returns a verify.Options.Reads func that scans the plan's
// repos for environment reads as they are now.
func ScanReads(p *plan.Plan, fp *secret.Fingerprinter) func(context.Context) ([]discover.Finding, error) {
	return func(ctx context.Context) ([]discover.Finding, error) {
		var roots []string
		for _, r := range p.Repos {
			roots = append(roots, r.Root+"/"+r.Name)
		}
		res, err := discover.Scan(ctx, discover.Options{Paths: roots, Fingerprinter: fp})
		if err != nil {
			return nil, err
		}
		var reads []discover.Finding
		for _, f := range res.Findings {
			if f.Kind == discover.KindEnvRead {
				reads = append(reads, f)
			}
		}
		return reads, nil
	}
}

// WriteText prints the report for people.
func WriteText(w io.Writer, rep *verify.Report) {
	fmt.Fprintf(w, "%d of %d secrets verified in the backend; %d files searched.\n", rep.Verified, rep.Secrets, rep.Files)
	if len(rep.Problems) == 0 {
		fmt.Fprintln(w, "OK: the migration is complete.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tCHECK\tSECRET\tWHERE\tPROBLEM")
	for _, pr := range rep.Problems {
		where := "-"
		if pr.Path != "" {
			where = pr.Repo + "/" + pr.Path
			if pr.Line > 0 {
				where = fmt.Sprintf("%s:%d", where, pr.Line)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", pr.Severity, pr.Check, orDash(pr.Secret), where, pr.Detail)
	}
	tw.Flush()
	if rep.OK() {
		fmt.Fprintln(w, "OK, with warnings.")
	} else {
		fmt.Fprintln(w, "FAILED: see the problems above.")
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
