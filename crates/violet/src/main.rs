//! The `violet` binary: parses the command line and runs the library's commands.

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser};

use violet::cli::{self, Cli, Command, Output, PackKind};
use violet::{gc, list, push, show, verify};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VIOLET_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("violet: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Show(a) => {
            let files = vec![a.package.clone()];
            let u = push::unpack_quiet(&files, a.unpack.workdir.clone()).await?;
            let m = &u[0].1.metadata;
            match a.output {
                Output::Json => {
                    println!("{}", serde_json::to_string_pretty(&show::json(m, a.all))?)
                }
                Output::Yaml => print!("{}", serde_yaml::to_string(&show::json(m, a.all))?),
                Output::Text => print!("{}", show::text(m, a.all)),
            }
            Ok(())
        }
        Command::Push(a) => push::run(*a).await,
        Command::Verify(a) => verify::run(a).await,
        Command::Pack(a) => pack(a).await,
        Command::List(a) => list::run(a).await,
        Command::Gc(a) => gc::run(a).await,
        Command::Completion { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "violet", &mut std::io::stdout());
            Ok(())
        }
    }
}

async fn pack(a: cli::PackArgs) -> Result<()> {
    let mut opts = package::pack::Options {
        artifact_reference: a.artifact,
        display_name: a.display_name,
        source_type: a.source_type,
        catalog_source: a.catalog_source,
        provider: a.provider,
        architectures: a.arch,
        images: vec![],
    };
    for i in &a.images {
        opts.images.push(package::pack::ImageInput::parse(i)?);
    }
    let m = match a.kind {
        PackKind::Bundle => package::pack::pack_bundle(&a.source, &a.output, &opts).await,
        PackKind::Chart => package::pack::pack_chart(&a.source, &a.output, &opts).await,
        PackKind::Plugin => package::pack::pack_plugin(&a.source, &a.output, &opts).await,
    }
    .with_context(|| format!("packing {}", a.source.display()))?;
    println!(
        "wrote {}: {} {} {} ({} images)",
        a.output.display(),
        m.kind,
        m.name,
        m.version,
        m.images().count()
    );
    Ok(())
}
