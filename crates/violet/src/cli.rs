//! The command line: every subcommand and flag, with help that says what each does and when to
//! use it.

// The doc comments below are clap's `--help` text, written for a terminal (`<data-dir>`,
// `oci:DIR[:TAG]`), not rustdoc markup.
#![allow(
    rustdoc::invalid_html_tags,
    rustdoc::broken_intra_doc_links,
    rustdoc::bare_urls
)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "violet",
    version,
    about = "Upload Marketplace packages (operators, cluster plugins, Helm charts) to the platform",
    long_about = "violet reads an offline package (.tgz downloaded from the Marketplace or built with \
`violet pack`), pushes its images to the platform's image registry and records it on the platform as \
Artifact / ArtifactVersion resources, after which OperatorHub or Cluster Plugins shows it as Ready \
instead of Absent.\n\nTypical use:\n  violet show topolvm-operator.v2.3.0.tgz\n  violet push \
topolvm-operator.v2.3.0.tgz --platform-address https://example.com --platform-username admin \
--platform-password '...'\n\nOnly a platform user whose role is the System role \
platform-admin-system may push.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print a package's name, type, architectures and version (and with --all its images).
    Show(ShowArgs),
    /// Push packages' images to the registry and create their Artifact/ArtifactVersion records.
    Push(Box<PushArgs>),
    /// Check a package's digests (and a .sha256 file and OpenPGP signature beside it) without pushing anything.
    Verify(VerifyArgs),
    /// Build a package from an operator bundle directory, a chart directory or a plugin descriptor.
    Pack(PackArgs),
    /// List what is uploaded, per type and cluster.
    List(ListArgs),
    /// Remove records and registry tags no longer referenced (see --dry-run first).
    Gc(GcArgs),
    /// Print a shell completion script: `violet completion bash > /etc/bash_completion.d/violet`.
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
    Yaml,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The package file (.tgz).
    pub package: PathBuf,
    /// Also print the main artifact image and the related images.
    #[arg(long)]
    pub all: bool,
    /// Output format (text as documented, or json).
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: Output,
    #[command(flatten)]
    pub unpack: UnpackArgs,
}

#[derive(Args, Debug, Clone)]
pub struct UnpackArgs {
    /// Directory to unpack packages into while they are read and verified (default: the system
    /// temporary directory). Needs room for the largest package.
    #[arg(long, env = "VIOLET_WORKDIR")]
    pub workdir: Option<PathBuf>,
}

/// How to reach and log in to the platform.
#[derive(Args, Debug, Clone, Default)]
pub struct PlatformArgs {
    /// Platform access URL, e.g. "https://example.com".
    #[arg(long, env = "VIOLET_PLATFORM_ADDRESS")]
    pub platform_address: Option<String>,
    /// Platform user (its role must be the System role platform-admin-system).
    #[arg(long, env = "VIOLET_PLATFORM_USERNAME")]
    pub platform_username: Option<String>,
    /// That user's password (prefer the environment variable VIOLET_PLATFORM_PASSWORD: command
    /// lines are visible to other users).
    /// (Values may begin with `-`, as generated passwords can.)
    #[arg(
        long,
        env = "VIOLET_PLATFORM_PASSWORD",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub platform_password: Option<String>,
    /// A platform token instead of username and password.
    #[arg(long, env = "VIOLET_PLATFORM_TOKEN", hide_env_values = true, allow_hyphen_values = true, conflicts_with_all = ["platform_username", "platform_password"])]
    pub platform_token: Option<String>,
    /// CA certificate (PEM) the platform's TLS certificate is signed by (marketplace serve: <data-dir>/pki/ca.crt).
    #[arg(long)]
    pub platform_ca: Option<PathBuf>,
    /// Do not verify the platform's TLS certificate (and the registry's, unless --plain). Unsafe.
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// A package file, or a directory: every *.tgz in it is pushed.
    pub path: PathBuf,
    #[command(flatten)]
    pub platform: PlatformArgs,
    /// Clusters to create operator records in, comma-separated (default: global). Ignored for
    /// plugins and charts, which are published in global.
    #[arg(long, value_delimiter = ',')]
    pub clusters: Vec<String>,
    /// Registry address (HOST[:PORT][/PATH]) instead of the platform's; needed for a standby
    /// global cluster. Requires --username/--password or --no-auth.
    #[arg(long)]
    pub dest_repo: Option<String>,
    /// Registry user.
    #[arg(long, requires = "password")]
    pub username: Option<String>,
    /// Registry password (or VIOLET_REGISTRY_PASSWORD).
    #[arg(
        long,
        env = "VIOLET_REGISTRY_PASSWORD",
        hide_env_values = true,
        allow_hyphen_values = true,
        requires = "username"
    )]
    pub password: Option<String>,
    /// The registry needs no authentication.
    #[arg(long, conflicts_with_all = ["username", "password"])]
    pub no_auth: bool,
    /// The registry speaks plain HTTP instead of HTTPS.
    #[arg(long)]
    pub plain: bool,
    /// Push images only; do not create Artifact/ArtifactVersion (so nothing is upgraded early).
    #[arg(long, conflicts_with = "skip_push")]
    pub skip_crs: bool,
    /// Create Artifact/ArtifactVersion only; the images must already be in the registry.
    #[arg(long)]
    pub skip_push: bool,
    /// Blobs uploaded at the same time per image.
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    /// Images pushed at the same time.
    #[arg(long, default_value_t = 3)]
    pub parallel_images: usize,
    /// Where unfinished uploads are remembered so a re-run resumes them (default
    /// $XDG_CACHE_HOME/violet/uploads).
    #[arg(long)]
    pub resume_dir: Option<PathBuf>,
    /// Progress as plain lines even on a terminal.
    #[arg(long)]
    pub no_progress_bars: bool,
    /// The publisher's OpenPGP public key file (as for `verify --key`): every package must have
    /// a good signature by it beside it (`<file>.sig` or `<file>.asc`), checked before anything
    /// is pushed. Without --key signatures are not checked (a note says so).
    #[arg(long, value_name = "KEY_FILE")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub unpack: UnpackArgs,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The package file (.tgz). A `<file>.sha256` beside it is checked too, and an OpenPGP
    /// signature `<file>.sig` or `<file>.asc` beside it needs --key.
    pub package: PathBuf,
    /// The publisher's OpenPGP public key file (armored as `gpg --armor --export PUBLISHER >
    /// pub.asc` writes it, or binary). The detached signature beside the package (`<file>.sig`
    /// from `gpg --detach-sign`, or `<file>.asc` from `gpg --armor --detach-sign`) must be made
    /// by this key or one of its signing subkeys over the package as it is now; the signer is
    /// printed. Without --key a signature beside the package is refused, not skipped; with it,
    /// a missing signature is refused.
    #[arg(long, value_name = "KEY_FILE")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub unpack: UnpackArgs,
}

#[derive(Args, Debug)]
pub struct PackArgs {
    /// What to pack from.
    #[arg(value_enum)]
    pub kind: PackKind,
    /// The bundle directory, chart directory or plugin descriptor file.
    pub source: PathBuf,
    /// The package file to write.
    #[arg(long, short = 'o')]
    pub output: PathBuf,
    /// A related image, as REFERENCE=OCI_LAYOUT_DIR[:TAG] (repeatable); every image a bundle's
    /// CSV lists in relatedImages must be given.
    #[arg(long = "image")]
    pub images: Vec<String>,
    /// The main artifact's reference (default: acp/<package>-bundle:v<version>,
    /// public-charts/<chart>:<version>, acp/chart-<plugin>:<version>).
    #[arg(long)]
    pub artifact: Option<String>,
    #[arg(long)]
    pub display_name: Option<String>,
    /// alauda | curated | community | marketplace | custom (default custom).
    #[arg(long)]
    pub source_type: Option<String>,
    /// Operators: platform | system | custom (default platform).
    #[arg(long)]
    pub catalog_source: Option<String>,
    #[arg(long)]
    pub provider: Option<String>,
    /// Architectures (os/arch, comma-separated); default: those of the images.
    #[arg(long, value_delimiter = ',')]
    pub arch: Option<Vec<String>>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum PackKind {
    /// An operator bundle directory (manifests/ + metadata/).
    Bundle,
    /// A Helm chart directory.
    Chart,
    /// A cluster plugin descriptor (YAML).
    Plugin,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub platform: PlatformArgs,
    /// Clusters to list (default: every cluster of the platform).
    #[arg(long, value_delimiter = ',')]
    pub clusters: Vec<String>,
    /// text (a table), json, or yaml (an apps list that can drive a later download/upgrade).
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: Output,
}

#[derive(Args, Debug)]
pub struct GcArgs {
    #[command(flatten)]
    pub platform: PlatformArgs,
    /// Clusters to collect in (default: every cluster of the platform).
    #[arg(long, value_delimiter = ',')]
    pub clusters: Vec<String>,
    /// Only list what would be removed.
    #[arg(long)]
    pub dry_run: bool,
    /// Registry address when not the platform's (as for push).
    #[arg(long)]
    pub dest_repo: Option<String>,
    #[arg(long, requires = "password")]
    pub username: Option<String>,
    #[arg(
        long,
        env = "VIOLET_REGISTRY_PASSWORD",
        hide_env_values = true,
        requires = "username"
    )]
    pub password: Option<String>,
    #[arg(long)]
    pub plain: bool,
    /// File the removals are appended to (JSON lines).
    #[arg(long, default_value = "violet-gc.log")]
    pub record: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_beginning_with_a_hyphen_are_taken_as_values_not_flags() {
        let cli = Cli::try_parse_from([
            "violet",
            "push",
            "pkg.tgz",
            "--platform-username",
            "admin",
            "--platform-password",
            "-onpcg_4rv942",
            "--username",
            "u",
            "--password",
            "-registry",
        ])
        .expect("parsed");
        let Command::Push(args) = cli.command else {
            panic!("not push")
        };
        assert_eq!(
            args.platform.platform_password.as_deref(),
            Some("-onpcg_4rv942")
        );
        assert_eq!(args.password.as_deref(), Some("-registry"));
    }
}
