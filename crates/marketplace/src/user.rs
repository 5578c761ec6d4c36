//! `marketplace user add|list|passwd|delete`: platform users, edited offline in
//! `<data-dir>/users.json` (the file `serve` re-reads on change, so the commands also work while it
//! runs: a new user can log in at once, a deleted or re-passworded user's tokens stop working).
//! Passwords come from stdin (`--password-stdin`) or are generated and printed once; a given
//! password is never echoed.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::Context;
use platform::users::{RoleType, UserDb, users_path};

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Add a user: `marketplace user add alice --role-type Custom --role dev --password-stdin`.
    Add {
        name: String,
        /// System or Custom. A System user named to role `platform-admin-system` administers the
        /// platform (cluster-admin everywhere, may run `violet push`).
        #[arg(long, default_value = "Custom")]
        role_type: String,
        /// The role's name; tokens carry the group `platform-role:<role>` for RBAC bindings.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of stdin (else one is generated and printed).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        dir: DataDir,
    },
    /// List users (name, role type, role, created).
    List {
        #[command(flatten)]
        dir: DataDir,
    },
    /// Set a user's password; every token issued before stops working.
    Passwd {
        name: String,
        /// Read the password from the first line of stdin (else one is generated and printed).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Delete a user; their tokens stop working.
    Delete {
        name: String,
        #[command(flatten)]
        dir: DataDir,
    },
}

#[derive(clap::Args)]
pub struct DataDir {
    /// The data dir of `marketplace serve`.
    #[arg(long, env = "MARKETPLACE_DATA_DIR")]
    data_dir: PathBuf,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The password from stdin, or a generated one (printed once).
fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((platform::users::random_password(), true));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    Ok((line.trim_end_matches(['\n', '\r']).to_string(), false))
}

fn edit(
    dir: &DataDir,
    change: impl FnOnce(&mut UserDb) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let path = users_path(&dir.data_dir);
    anyhow::ensure!(
        dir.data_dir.is_dir(),
        "data dir {}: no such directory; give the --data-dir of `marketplace serve`",
        dir.data_dir.display()
    );
    // One editor at a time: concurrent `marketplace user` runs would otherwise lose an update.
    let _lock = platform::users::lock_users(&path)?;
    let mut db = UserDb::load(&path)?;
    change(&mut db)?;
    db.save(&path)?;
    Ok(())
}

pub fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role_type,
            role,
            password_stdin,
            dir,
        } => {
            let role_type = RoleType::parse(&role_type)?;
            let (pw, generated) = password(password_stdin)?;
            edit(&dir, |db| {
                Ok(db.add(&name, role_type, &role, &pw, now())?)
            })?;
            println!("user {name} added ({} role {role})", role_type.as_str());
            if generated {
                println!("password: {pw}");
            }
        }
        UserCommand::List { dir } => {
            let db = UserDb::load(&users_path(&dir.data_dir))?;
            println!("{:<24} {:<10} {:<28} CREATED", "NAME", "ROLE-TYPE", "ROLE");
            for (name, u) in &db.users {
                let created = jiff::Timestamp::from_second(u.created)
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                println!(
                    "{name:<24} {:<10} {:<28} {created}",
                    u.role_type.as_str(),
                    u.role_name
                );
            }
        }
        UserCommand::Passwd {
            name,
            password_stdin,
            dir,
        } => {
            let (pw, generated) = password(password_stdin)?;
            edit(&dir, |db| Ok(db.set_password(&name, &pw)?))?;
            println!("password of {name} changed; earlier tokens are revoked");
            if generated {
                println!("password: {pw}");
            }
        }
        UserCommand::Delete { name, dir } => {
            edit(&dir, |db| Ok(db.delete(&name).map(|_| ())?))?;
            println!("user {name} deleted; their tokens are revoked");
        }
    }
    Ok(())
}
