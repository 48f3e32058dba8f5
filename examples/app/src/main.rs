//! The binary half: the generated module again, used for one call.

#[rustfmt::skip]
mod db {
    include!(concat!(env!("OUT_DIR"), "/dyngen/rust/dyngen.rs"));
}

#[tokio::main]
async fn main() -> Result<(), dyngen_runtime::Error> {
    let config = aws_config::load_from_env().await;
    let db = db::Db::new(dyngen_runtime::aws_sdk_dynamodb::Client::new(&config));
    let key = db::NoteKey {
        author: "ann".into(),
        id: "1".into(),
    };
    match db.note().get(&key).await? {
        Some(note) => println!("{}", note.title),
        None => println!("no note"),
    }
    Ok(())
}
