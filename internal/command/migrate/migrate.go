// Package migrate implements the `env2vault migrate` command.
package migrate

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/internal/cli"
)

// NewCmd returns the `migrate` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "PLACEHOLDER: being built",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("migrate is not built yet")
		},
	}
}
