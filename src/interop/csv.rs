//! CSV in and out. Reading recognises Google Contacts (old `Given Name … E-mail 1 - Type` and
//! current `First Name … E-mail 1 - Label … Labels` headers), Outlook (English, German, French
//! headers through one synonym table), rolo's own export, and any other CSV through a column
//! mapping file; rows stream one at a time and a bad row is an [`ImportProblem`] with its file
//! line, never the end of the import. Writing produces [`EXPORT_HEADER`] with spreadsheet
//! formula neutralisation. This module must not decide what text is safe (that is
//! `domain::text`) nor touch the store.
//!
//! # Export columns
//!
//! `id, name, given_name, family_name, organization, title, email, email_2, email_3, phone,
//! phone_2, phone_3, city, address, birthday, language, stage, tier, owner, source, tags, notes,
//! created_at, updated_at, preferred_channel, consent_email, consent_sms, consent_call,
//! consent_post, consent, custom, uid, street, postcode, region, country, address_label,
//! email_labels, phone_labels`
//!
//! - `email` is the primary address, `email_2` the second; `email_3` holds the third and any
//!   further ones joined with ` ::: ` (Google's separator), so nothing is lost while the common
//!   case stays one address per cell. Phones likewise. `email_labels` / `phone_labels` hold
//!   their labels in the same order, joined with ` ::: ` (`work ::: home`).
//! - `address` is the first address on one line (for people); `street`, `postcode`, `city`,
//!   `region`, `country` and `address_label` are its parts, which the import reads back
//!   (the one-line form is then not read as a second address). `city` is the first city any
//!   address has. Further addresses are in the JSON only.
//! - `birthday` is `YYYY-MM-DD` or `--MM-DD`; `tags` are `;`-joined; `notes` keep their newlines
//!   (quoted cells); `created_at` / `updated_at` are RFC 3339 UTC.
//! - `consent_email` … `consent_post` are the current status on that channel (`granted`,
//!   `denied`, `unknown`; empty when nothing was ever recorded), so a mailing tool can filter
//!   on them; `consent` is the whole history, every channel, as the JSON list rolo's JSON
//!   export has (`[{"channel":"email","status":"denied","at":…,"source":…,"purpose":…}]`);
//!   `custom` the custom fields as its JSON object. On import a status column that differs
//!   from the history's latest statement (edited in a spreadsheet or by a mailing tool) adds a
//!   statement made at import time, source [`CONSENT_COLUMN_SOURCE`]; so an opt-out survives a
//!   round trip through any tool that keeps the column.
//! - `uid` is the identifier from another system (vCard UID), so a re-import matches by it.
//! - Unless `raw`, a cell starting with `=`, `@`, tab or CR, or with `+` / `-` when it is not a
//!   plain number or phone number, gets a leading `'` so spreadsheets do not run it as a
//!   formula. rolo's reader removes that `'` again. A phone cell of digits, spaces and
//!   `+-().` starts with a tab instead, so spreadsheets keep it text (`0012345678` keeps its
//!   zeros, `+385 1 234 5678` is no formula); importers (rolo's, Google's, Outlook's) trim it.
//!
//! # Mapping files
//!
//! `--map FILE` is TOML, one `"column name" = "field"` per line. Fields: `name`, `given_name`,
//! `family_name`, `organization`, `title`, `email` (or `email.LABEL`), `phone` (or
//! `phone.LABEL`), `street`, `city`, `region`, `postcode`, `country`, `tags`, `notes`,
//! `birthday`, `uid`, `stage`, `owner`, `language`, `tier`, `source`, `custom.KEY`, `ignore`.
//! Columns not named in the map are ignored.

use std::borrow::Cow;
use std::io::{self, BufRead, Read, Write};
use std::path::Path;

use std::collections::BTreeMap;

use crate::domain::{
    Address, At, Channel, Consent, ConsentStatus, Contact, ContactDraft, CustomValue, Labelled,
    Stage, text,
};

use super::encoding::Utf8Reader;
use super::{DateOrder, ImportProblem, ImportRecord, InteropError, finish, parse_birthday};

/// The header of rolo's CSV export, in order.
pub const EXPORT_HEADER: [&str; 39] = [
    "id",
    "name",
    "given_name",
    "family_name",
    "organization",
    "title",
    "email",
    "email_2",
    "email_3",
    "phone",
    "phone_2",
    "phone_3",
    "city",
    "address",
    "birthday",
    "language",
    "stage",
    "tier",
    "owner",
    "source",
    "tags",
    "notes",
    "created_at",
    "updated_at",
    "preferred_channel",
    "consent_email",
    "consent_sms",
    "consent_call",
    "consent_post",
    "consent",
    "custom",
    "uid",
    "street",
    "postcode",
    "region",
    "country",
    "address_label",
    "email_labels",
    "phone_labels",
];

/// The channels with a `consent_CHANNEL` status column of their own (the ones marketing
/// lists are sent over); every channel's full history is in the `consent` column.
pub const CONSENT_COLUMNS: [Channel; 4] =
    [Channel::Email, Channel::Sms, Channel::Call, Channel::Post];

/// Where a consent statement read from a `consent_CHANNEL` column alone (no history that
/// says the same) says it came from.
pub const CONSENT_COLUMN_SOURCE: &str = "csv import";

/// The separator Google uses for several values in one cell.
pub const MULTI_SEPARATOR: &str = " ::: ";

/// Google system groups that are not user tags.
const SYSTEM_LABELS: [&str; 5] = [
    "mycontacts",
    "my contacts",
    "starred",
    "other contacts",
    "frequently contacted",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PointKind {
    Email,
    Phone,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AddrPart {
    Label,
    Street,
    Extended,
    PoBox,
    City,
    Region,
    Postcode,
    Country,
    /// Google's one-line form; used only when the parts are empty.
    Formatted,
}

/// What a column holds.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    Ignore,
    Name,
    GivenName,
    FamilyName,
    Organization,
    Title,
    Notes,
    Tags,
    Birthday,
    Uid,
    Stage,
    Owner,
    Language,
    Tier,
    Source,
    Custom(String),
    /// rolo's `custom` column: every custom field as a JSON object (as in rolo's JSON).
    CustomJson,
    PreferredChannel,
    /// A `consent_CHANNEL` column: the current status on that channel.
    ConsentStatus(Channel),
    /// rolo's `consent` column: the whole consent history as a JSON array.
    ConsentHistory,
    /// An email / phone cell; columns with the same `slot` belong together (value + label).
    Point {
        kind: PointKind,
        slot: String,
        is_label: bool,
        label: String,
    },
    Addr {
        slot: String,
        part: AddrPart,
        label: String,
    },
    /// A whole address on one line (rolo's `address` column): kept as the street.
    AddressLine,
    /// rolo's `email_labels` / `phone_labels`: the labels of the values, in order.
    PointLabels(PointKind),
}

fn point(kind: PointKind, slot: &str, label: &str) -> Target {
    Target::Point {
        kind,
        slot: slot.into(),
        is_label: false,
        label: label.into(),
    }
}

fn addr(slot: &str, part: AddrPart, label: &str) -> Target {
    Target::Addr {
        slot: slot.into(),
        part,
        label: label.into(),
    }
}

fn normalise_header(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Google's indexed columns: `E-mail 1 - Value`, `Phone 2 - Label`, `Address 1 - City`, …
fn google_indexed(h: &str) -> Option<Target> {
    let (left, part) = h.split_once(" - ")?;
    let (kind, n) = left.rsplit_once(' ')?;
    if !n.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let slot = format!("g{kind}{n}");
    let is_label = matches!(part, "type" | "label");
    Some(match kind {
        "e-mail" | "email" if is_label || part == "value" => Target::Point {
            kind: PointKind::Email,
            slot,
            is_label,
            label: String::new(),
        },
        "phone" if is_label || part == "value" => Target::Point {
            kind: PointKind::Phone,
            slot,
            is_label,
            label: String::new(),
        },
        "address" => {
            let part = match part {
                "type" | "label" => AddrPart::Label,
                "street" => AddrPart::Street,
                "extended address" => AddrPart::Extended,
                "po box" => AddrPart::PoBox,
                "city" => AddrPart::City,
                "region" => AddrPart::Region,
                "postal code" => AddrPart::Postcode,
                "country" => AddrPart::Country,
                "formatted" => AddrPart::Formatted,
                _ => return Some(Target::Ignore),
            };
            addr(&slot, part, "")
        }
        "organization" if n == "1" => match part {
            "name" => Target::Organization,
            "title" => Target::Title,
            _ => Target::Ignore,
        },
        _ => Target::Ignore,
    })
}

/// Outlook's address columns in English, German and French: (prefix/suffix word, slot, label).
fn outlook_address(h: &str) -> Option<Target> {
    const PLACES: [(&str, &str); 9] = [
        ("business", "work"),
        ("home", "home"),
        ("other", "other"),
        ("geschäftlich", "work"),
        ("privat", "home"),
        ("weitere", "other"),
        ("(bureau)", "work"),
        ("(domicile)", "home"),
        ("(autre)", "other"),
    ];
    const PARTS: [(&str, AddrPart); 22] = [
        ("street", AddrPart::Street),
        ("street 2", AddrPart::Extended),
        ("street 3", AddrPart::Extended),
        ("po box", AddrPart::PoBox),
        ("city", AddrPart::City),
        ("state", AddrPart::Region),
        ("postal code", AddrPart::Postcode),
        ("country/region", AddrPart::Country),
        ("country", AddrPart::Country),
        ("straße", AddrPart::Street),
        ("straße 2", AddrPart::Extended),
        ("ort", AddrPart::City),
        ("bundesland/kanton", AddrPart::Region),
        ("postleitzahl", AddrPart::Postcode),
        ("land/region", AddrPart::Country),
        ("postfach", AddrPart::PoBox),
        ("rue", AddrPart::Street),
        ("rue 2", AddrPart::Extended),
        ("ville", AddrPart::City),
        ("état/prov", AddrPart::Region),
        ("code postal", AddrPart::Postcode),
        ("pays/région", AddrPart::Country),
    ];
    for (place, label) in PLACES {
        let rest = h
            .strip_prefix(place)
            .map(str::trim)
            .or_else(|| h.strip_suffix(place).map(str::trim));
        if let Some(rest) = rest
            && let Some((_, part)) = PARTS.iter().find(|(name, _)| *name == rest)
        {
            return Some(addr(place, *part, label));
        }
    }
    None
}

/// The synonym table: header (normalised) → what it holds.
fn known_header(h: &str, has_job_title: bool) -> Option<Target> {
    use PointKind::{Email, Phone};
    Some(match h {
        "name" | "full name" | "display name" => Target::Name,
        "given name" | "first name" | "given_name" | "firstname" | "vorname" | "prénom" => {
            Target::GivenName
        }
        "family name" | "last name" | "family_name" | "surname" | "lastname" | "nachname"
        | "nom" => Target::FamilyName,
        "organization" | "organisation" | "company" | "organization name" | "firma" | "société"
        | "entreprise" => Target::Organization,
        "job title" | "organization title" | "position" | "fonction" => Target::Title,
        "title" if !has_job_title => Target::Title,
        "notes" | "note" | "notizen" => Target::Notes,
        "labels" | "group membership" | "categories" | "tags" | "kategorien" | "catégories" => {
            Target::Tags
        }
        "birthday" | "birth date" | "geburtstag" | "anniversaire" => Target::Birthday,
        "uid" => Target::Uid,
        "stage" => Target::Stage,
        "owner" => Target::Owner,
        "language" => Target::Language,
        "tier" => Target::Tier,
        "source" => Target::Source,
        "address" => Target::AddressLine,
        "address_label" => addr("a", AddrPart::Label, ""),
        "email_labels" => Target::PointLabels(Email),
        "phone_labels" => Target::PointLabels(Phone),
        "preferred_channel" | "preferred channel" => Target::PreferredChannel,
        "consent" => Target::ConsentHistory,
        "custom" => Target::CustomJson,
        "city" => addr("a", AddrPart::City, ""),
        "street" => addr("a", AddrPart::Street, ""),
        "region" | "state" => addr("a", AddrPart::Region, ""),
        "postcode" | "postal code" | "zip" | "zip code" => addr("a", AddrPart::Postcode, ""),
        "country" => addr("a", AddrPart::Country, ""),
        "email"
        | "e-mail"
        | "email address"
        | "e-mail address"
        | "e-mail-adresse"
        | "adresse de messagerie" => point(Email, "e1", ""),
        "email_2" | "e-mail 2 address" | "e-mail 2: adresse" | "adresse de messagerie 2" => {
            point(Email, "e2", "")
        }
        "email_3" | "e-mail 3 address" | "e-mail 3: adresse" | "adresse de messagerie 3" => {
            point(Email, "e3", "")
        }
        "phone" | "primary phone" | "telefon" | "haupttelefon" | "téléphone principal" => {
            point(Phone, "p1", "")
        }
        "phone_2" => point(Phone, "p2", ""),
        "phone_3" => point(Phone, "p3", ""),
        "mobile phone" | "mobile" | "mobiltelefon" | "tél. mobile" | "téléphone mobile" => {
            point(Phone, "mobile", "mobile")
        }
        "business phone" | "work phone" | "telefon geschäftlich" | "téléphone bureau" => {
            point(Phone, "work", "work")
        }
        "business phone 2" | "telefon geschäftlich 2" | "téléphone bureau 2" => {
            point(Phone, "work2", "work")
        }
        "company main phone" | "firmenhaupttelefon" | "téléphone société" => {
            point(Phone, "main", "main")
        }
        "home phone" | "telefon privat" | "téléphone domicile" => point(Phone, "home", "home"),
        "home phone 2" | "telefon privat 2" | "téléphone domicile 2" => {
            point(Phone, "home2", "home")
        }
        "other phone" | "weiteres telefon" | "autre téléphone" => point(Phone, "other", "other"),
        "business fax" | "fax geschäftlich" | "télécopie bureau" => {
            point(Phone, "workfax", "work fax")
        }
        "home fax" | "fax privat" | "télécopie domicile" => point(Phone, "homefax", "home fax"),
        "pager" => point(Phone, "pager", "pager"),
        _ => {
            return google_indexed(h)
                .or_else(|| outlook_address(h))
                .or_else(|| rolo_prefixed(h));
        }
    })
}

/// Headers people write in German, French, Spanish, Italian, Croatian and Portuguese, and
/// English spellings beyond the exporters' own: what the column holds, and whether the
/// language writes dates day first (`17/05/1990`). Names that are a given name beside a family
/// name column but a whole name alone (`Nombre`, `Nome`, `Ime`, `Nom`) are sorted out by
/// [`CsvReader::new`], which sees the whole header.
fn synonym(h: &str) -> Option<(Target, bool)> {
    use PointKind::{Email, Phone};
    let english = |t: Target| Some((t, false));
    let foreign = |t: Target| Some((t, true));
    match h {
        // English variants.
        "mail" | "e-mail address 1" | "email 1" | "primary email" | "work email"
        | "mail address" | "email-address" | "emailaddress" => english(point(Email, "e1", "")),
        "email 2" | "secondary email" | "other email" | "home email" => {
            english(point(Email, "e2", ""))
        }
        "tel" | "tel." | "telephone" | "phone number" | "telephone number" | "phone 1"
        | "landline" => english(point(Phone, "p1", "")),
        "cell" | "cell phone" | "cellphone" | "mobile number" | "mobile phone number" => {
            english(point(Phone, "mobile", "mobile"))
        }
        "first" | "forename" | "christian name" => english(Target::GivenName),
        "last" => english(Target::FamilyName),
        "contact" | "contact name" | "customer" | "customer name" => english(Target::Name),
        "company name" | "employer" | "account name" => english(Target::Organization),
        "role" | "job" => english(Target::Title),
        "town" => english(addr("a", AddrPart::City, "")),
        "street address" | "address 1" | "address line 1" => {
            english(addr("a", AddrPart::Street, ""))
        }
        "province" | "county" => english(addr("a", AddrPart::Region, "")),
        "zipcode" | "post code" | "postal_code" => english(addr("a", AddrPart::Postcode, "")),
        "comments" | "comment" | "remarks" | "description" => english(Target::Notes),
        "groups" | "group" | "label" | "category" => english(Target::Tags),
        "date of birth" | "birthdate" | "dob" | "birth day" => english(Target::Birthday),
        "nickname" => english(Target::Custom("nickname".into())),
        "website" | "web site" | "web page" | "url" | "homepage" => {
            english(Target::Custom("url".into()))
        }
        // Email.
        "e-mail-adresse 1"
        | "emailadresse"
        | "mailadresse"
        | "courriel"
        | "adresse e-mail"
        | "adresse email"
        | "adresse mail"
        | "mél"
        | "correo"
        | "correo electrónico"
        | "correo electronico"
        | "email personal"
        | "posta elettronica"
        | "indirizzo email"
        | "indirizzo e-mail"
        | "e-pošta"
        | "e-posta"
        | "epošta"
        | "email adresa"
        | "e-mail adresa"
        | "adresa e-pošte"
        | "endereço de e-mail"
        | "endereço de email"
        | "endereco de email" => foreign(point(Email, "e1", "")),
        // Phones.
        "handy"
        | "mobil"
        | "mobilnummer"
        | "handynummer"
        | "portable"
        | "tél. portable"
        | "téléphone portable"
        | "móvil"
        | "movil"
        | "teléfono móvil"
        | "celular"
        | "cellulare"
        | "telefono cellulare"
        | "telemóvel"
        | "telemovel"
        | "mobitel"
        | "mobilni"
        | "broj mobitela" => foreign(point(Phone, "mobile", "mobile")),
        "telefonnummer"
        | "tel.-nr."
        | "telefono"
        | "teléfono"
        | "téléphone"
        | "telephone fixe"
        | "téléphone fixe"
        | "numéro de téléphone"
        | "número de teléfono"
        | "numero di telefono"
        | "telefone"
        | "número de telefone"
        | "broj telefona"
        | "fiksni" => foreign(point(Phone, "p1", "")),
        // Names.
        "vorname" | "prenom" | "nome proprio" | "nombre de pila" | "primeiro nome"
        | "ime osobe" => foreign(Target::GivenName),
        "familienname" | "nom de famille" | "apellido" | "apellidos" | "primer apellido"
        | "cognome" | "sobrenome" | "apelido" | "último nome" | "prezime" => {
            foreign(Target::FamilyName)
        }
        "vollständiger name"
        | "nom complet"
        | "nombre completo"
        | "nome completo"
        | "ime i prezime"
        | "kontakt" => foreign(Target::Name),
        // Ambiguous alone; see [`CsvReader::new`].
        "nombre" | "nome" | "ime" => foreign(Target::GivenName),
        // Organisation and title.
        "unternehmen" | "organisation name" | "societe" | "empresa" | "compañía" | "compania"
        | "azienda" | "società" | "societa" | "ditta" | "tvrtka" | "poduzeće" | "poduzece"
        | "organizacija" | "organização" | "organizacao" | "companhia" => {
            foreign(Target::Organization)
        }
        "berufsbezeichnung" | "jobtitel" | "funktion" | "poste" | "titre" | "cargo" | "puesto"
        | "ruolo" | "qualifica" | "funkcija" | "radno mjesto" | "zanimanje" => {
            foreign(Target::Title)
        }
        // Address.
        "stadt" | "wohnort" | "ville" | "ciudad" | "localidad" | "città" | "citta" | "comune"
        | "località" | "grad" | "mjesto" | "cidade" | "localidade" => {
            foreign(addr("a", AddrPart::City, ""))
        }
        "straße" | "strasse" | "rue" | "calle" | "via" | "ulica" | "ulica i broj" | "rua" => {
            foreign(addr("a", AddrPart::Street, ""))
        }
        "adresse" | "anschrift" | "dirección" | "direccion" | "domicilio" | "indirizzo"
        | "adresa" | "endereço" | "endereco" | "morada" => foreign(Target::AddressLine),
        "plz" | "postleitzahl" | "code postal" | "cp" | "código postal" | "codigo postal"
        | "cap" | "poštanski broj" | "postanski broj" | "cep" => {
            foreign(addr("a", AddrPart::Postcode, ""))
        }
        "bundesland" | "kanton" | "région" | "département" | "provincia" | "estado" | "regione"
        | "županija" | "zupanija" | "regija" | "distrito" => {
            foreign(addr("a", AddrPart::Region, ""))
        }
        "land" | "pays" | "país" | "pais" | "paese" | "nazione" | "država" | "drzava"
        | "zemlja" => foreign(addr("a", AddrPart::Country, "")),
        // The rest.
        "notiz" | "bemerkung" | "bemerkungen" | "kommentar" | "remarques" | "remarque"
        | "commentaire" | "commentaires" | "notas" | "nota" | "observaciones" | "comentarios"
        | "note personali" | "bilješke" | "biljeske" | "napomena" | "napomene" | "observações"
        | "observacoes" => foreign(Target::Notes),
        "gruppe" | "gruppen" | "schlagwörter" | "groupe" | "groupes" | "étiquettes"
        | "etiquettes" | "grupo" | "grupos" | "etiquetas" | "gruppo" | "etichette" | "grupa"
        | "oznake" => foreign(Target::Tags),
        "geburtsdatum"
        | "date de naissance"
        | "cumpleaños"
        | "cumpleanos"
        | "fecha de nacimiento"
        | "compleanno"
        | "data di nascita"
        | "rođendan"
        | "rodendan"
        | "datum rođenja"
        | "datum rodenja"
        | "aniversário"
        | "data de nascimento" => foreign(Target::Birthday),
        "sprache" | "langue" | "idioma" | "lingua" | "jezik" => foreign(Target::Language),
        _ => None,
    }
}

/// `consent_CHANNEL` / `consent CHANNEL` and `custom.KEY` columns (rolo's export writes the
/// first; the second lets any CSV bring a custom field by naming its column so).
fn rolo_prefixed(h: &str) -> Option<Target> {
    if let Some(channel) = h
        .strip_prefix("consent_")
        .or_else(|| h.strip_prefix("consent "))
    {
        return channel.parse().ok().map(Target::ConsentStatus);
    }
    h.strip_prefix("custom.")
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| Target::Custom(k.to_string()))
}

/// A user's description of a CSV's columns (`--map FILE`).
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnMap {
    /// Where it came from, for messages.
    pub file: String,
    columns: Vec<(String, Target)>,
}

/// The field names a mapping file may use, for messages.
pub const MAPPING_FIELDS: &str = "name, given_name, family_name, organization, title, email, \
     email.LABEL, phone, phone.LABEL, street, city, region, postcode, country, tags, notes, \
     birthday, uid, stage, owner, language, tier, source, preferred_channel, consent.CHANNEL, \
     consent, custom.KEY, custom, ignore";

impl ColumnMap {
    pub fn load(path: &Path) -> Result<ColumnMap, InteropError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| InteropError::Mapping {
            file: file.clone(),
            message: e.to_string(),
        })?;
        ColumnMap::parse(&text, &file)
    }

    /// Parses a mapping file's text; `file` names it in errors.
    pub fn parse(source: &str, file: &str) -> Result<ColumnMap, InteropError> {
        let table: toml::Table = source.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .and_then(|s| source.get(..s.start))
                .map(|before| before.matches('\n').count() + 1);
            InteropError::Mapping {
                file: file.into(),
                message: match line {
                    Some(l) => format!("line {l}: {}", e.message()),
                    None => e.message().to_string(),
                },
            }
        })?;
        let mut columns = Vec::new();
        for (n, (column, value)) in table.iter().enumerate() {
            let bad_field = |field: String| InteropError::MappingField {
                file: file.into(),
                column: column.clone(),
                field,
                known: MAPPING_FIELDS,
            };
            let field = value
                .as_str()
                .ok_or_else(|| bad_field(value.to_string()))?
                .trim();
            let slot = format!("m{n}");
            let target = match field {
                "name" => Target::Name,
                "given_name" => Target::GivenName,
                "family_name" => Target::FamilyName,
                "organization" | "organisation" => Target::Organization,
                "title" => Target::Title,
                "notes" => Target::Notes,
                "tags" => Target::Tags,
                "birthday" => Target::Birthday,
                "uid" => Target::Uid,
                "stage" => Target::Stage,
                "owner" => Target::Owner,
                "language" => Target::Language,
                "tier" => Target::Tier,
                "source" => Target::Source,
                "preferred_channel" => Target::PreferredChannel,
                "consent" => Target::ConsentHistory,
                "custom" => Target::CustomJson,
                "ignore" => Target::Ignore,
                "email" => point(PointKind::Email, &slot, ""),
                "phone" => point(PointKind::Phone, &slot, ""),
                "street" => addr("a", AddrPart::Street, ""),
                "city" => addr("a", AddrPart::City, ""),
                "region" => addr("a", AddrPart::Region, ""),
                "postcode" => addr("a", AddrPart::Postcode, ""),
                "country" => addr("a", AddrPart::Country, ""),
                f => {
                    if let Some(label) = f.strip_prefix("email.") {
                        point(PointKind::Email, &slot, label)
                    } else if let Some(label) = f.strip_prefix("phone.") {
                        point(PointKind::Phone, &slot, label)
                    } else if let Some(key) = f.strip_prefix("custom.").filter(|k| !k.is_empty()) {
                        Target::Custom(key.to_lowercase())
                    } else if let Some(Ok(channel)) =
                        f.strip_prefix("consent.").map(str::parse::<Channel>)
                    {
                        Target::ConsentStatus(channel)
                    } else {
                        return Err(bad_field(f.to_string()));
                    }
                }
            };
            columns.push((normalise_header(column), target));
        }
        Ok(ColumnMap {
            file: file.into(),
            columns,
        })
    }
}

/// The longest record (row) read: past it the file is not read on (a missing quote in a huge
/// file, `/dev/zero`, a binary file) and memory stays bounded. A contact's notes hold at most
/// 100,000 characters, so no real row comes near.
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// What [`Tracked`] knows about the bytes it handed to the CSV parser.
#[derive(Debug)]
struct Track {
    /// Bytes handed out so far.
    read: u64,
    /// Where each non-blank line handed out and not yet passed starts: (offset, line).
    starts: std::collections::VecDeque<(u64, u64)>,
    /// The line of the next byte, and whether it starts one.
    line: u64,
    at_line_start: bool,
    /// Where the record being read started.
    record_start: u64,
    /// Set once the record cap was hit.
    overflow: bool,
}

impl Default for Track {
    fn default() -> Self {
        Track {
            read: 0,
            starts: Default::default(),
            line: 1,
            at_line_start: true,
            record_start: 0,
            overflow: false,
        }
    }
}

impl Track {
    fn saw(&mut self, offset: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.at_line_start = true;
                }
                b'\r' => {}
                _ if self.at_line_start => {
                    self.starts.push_back((offset + i as u64, self.line));
                    self.at_line_start = false;
                }
                _ => {}
            }
        }
    }

    /// The 1-based line of the first record starting at or after byte `offset` (the parser's
    /// position of a record can sit before blank lines it skipped, or at a CRLF's `\n`);
    /// offsets must not go backwards between calls. Counts `\n` only, so CRLF counts right.
    fn record_line(&mut self, offset: u64) -> u64 {
        while self.starts.front().is_some_and(|&(o, _)| o < offset) {
            self.starts.pop_front();
        }
        self.starts.front().map_or(self.line, |&(_, line)| line)
    }
}

type Shared = std::rc::Rc<std::cell::RefCell<Track>>;

/// The CSV parser's input: counts lines by byte offset, and refuses to hand out more than
/// [`MAX_RECORD_BYTES`] past the start of the record being read.
struct Tracked<R> {
    inner: Utf8Reader<R>,
    track: Shared,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut t = self.track.borrow_mut();
        let room = (t.record_start + MAX_RECORD_BYTES).saturating_sub(t.read);
        if room == 0 {
            t.overflow = true;
            return Err(io::Error::other(format!(
                "a row longer than {} MiB",
                MAX_RECORD_BYTES / (1024 * 1024)
            )));
        }
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        let start = t.read;
        t.saw(start, &buf[..n]);
        t.read += n as u64;
        Ok(n)
    }
}

/// Streams rows of a CSV file as [`ImportRecord`]s.
pub struct CsvReader<R: Read> {
    /// Said with the first row: the encoding was guessed (Windows-1252), and where.
    legacy_note: Option<String>,
    rows: csv::Reader<Tracked<R>>,
    track: Shared,
    delimiter: u8,
    columns: Vec<Target>,
    headers: Vec<String>,
    /// Per column: not imported and not ignored on purpose (unknown, or left out of the
    /// mapping), so the cells it holds are counted for [`CsvReader::unmapped`].
    watched: Vec<bool>,
    filled: Vec<u64>,
    /// Columns recognised through [`synonym`]: (header, what it was read as).
    guessed: Vec<(String, String)>,
    order: DateOrder,
    record: csv::ByteRecord,
    done: bool,
}

impl<R: Read> std::fmt::Debug for CsvReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvReader")
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl<R: Read> CsvReader<R> {
    /// Reads the header row and decides what each column holds. `encoding` forces the text
    /// encoding (else BOM, else UTF-8, else Windows-1252 when the start is not UTF-8);
    /// `mapping` replaces header recognition.
    pub fn new(
        input: R,
        encoding: Option<&'static encoding_rs::Encoding>,
        mapping: Option<ColumnMap>,
    ) -> Result<Self, InteropError> {
        let mut source = Utf8Reader::new(input, encoding, true)?;
        let legacy_note = source.guessed_legacy_at().map(|at| {
            let line = source.sniffed_line_of(at);
            format!(
                "line {line}: the file is not UTF-8 (from this line on, and more such bytes than UTF-8 letters in its first 64 KiB): read as Windows-1252; if names look wrong, import again with --encoding (e.g. --encoding iso-8859-2)"
            )
        });
        let delimiter = {
            let head = source.fill_buf()?;
            let first = head.split(|b| *b == b'\n').next().unwrap_or(&[]);
            let count = |c: u8| first.iter().filter(|b| **b == c).count();
            let (commas, semis, tabs) = (count(b','), count(b';'), count(b'\t'));
            if tabs > commas && tabs > semis {
                b'\t'
            } else if semis > commas {
                b';'
            } else {
                b','
            }
        };
        let track = Shared::default();
        let mut rows = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(Tracked {
                inner: source,
                track: track.clone(),
            });
        let mut header = csv::ByteRecord::new();
        let got = rows
            .read_byte_record(&mut header)
            .map_err(|e| InteropError::CsvHeader {
                line: 1,
                message: e.to_string(),
            })?;
        if !got {
            return Err(InteropError::EmptyCsv);
        }
        let headers: Vec<String> = header
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();
        let normalised: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
        let mut watched = vec![false; headers.len()];
        let mut guessed = Vec::new();
        let mut day_first = false;
        let columns: Vec<Target> = match &mapping {
            Some(map) => {
                for (column, _) in &map.columns {
                    if !normalised.contains(column) {
                        return Err(InteropError::Mapping {
                            file: map.file.clone(),
                            message: format!(
                                "column `{column}` is not in the CSV header ({})",
                                headers.join(", ")
                            ),
                        });
                    }
                }
                normalised
                    .iter()
                    .enumerate()
                    .map(|(i, h)| match map.columns.iter().find(|(c, _)| c == h) {
                        Some((_, t)) => t.clone(),
                        None => {
                            watched[i] = true;
                            Target::Ignore
                        }
                    })
                    .collect()
            }
            None => {
                let has_job_title = normalised.iter().any(|h| h == "job title");
                let mut columns: Vec<Target> = Vec::with_capacity(normalised.len());
                let mut by_synonym = vec![false; normalised.len()];
                for (i, h) in normalised.iter().enumerate() {
                    let target = match known_header(h, has_job_title) {
                        Some(t) => t,
                        None => match synonym(h) {
                            Some((t, foreign)) => {
                                day_first |= foreign;
                                by_synonym[i] = true;
                                t
                            }
                            None => Target::Ignore,
                        },
                    };
                    // rolo's own `id` and stamps are given anew by the store, on purpose.
                    watched[i] = target == Target::Ignore
                        && !matches!(h.as_str(), "id" | "created_at" | "updated_at");
                    columns.push(target);
                }
                // `Nombre` beside `Apellido` is a given name, alone it is the whole name;
                // `Nom` beside `Prénom` a family name; `Name` beside `Vorname` one too.
                let has = |t: &Target| columns.contains(t);
                let (has_given, has_family) = (has(&Target::GivenName), has(&Target::FamilyName));
                let has_vorname = normalised.iter().any(|h| h == "vorname");
                for (h, t) in normalised.iter().zip(columns.iter_mut()) {
                    match h.as_str() {
                        "nombre" | "nome" | "ime" if !has_family => *t = Target::Name,
                        "nom" if !has_given => *t = Target::Name,
                        "name" if has_vorname && !has_family => *t = Target::FamilyName,
                        _ => {}
                    }
                }
                for (i, t) in columns.iter().enumerate() {
                    if by_synonym[i] {
                        guessed.push((
                            text::visible(&headers[i], false).trim().to_string(),
                            describe(t),
                        ));
                    }
                }
                columns
            }
        };
        if columns.iter().all(|t| *t == Target::Ignore) {
            return Err(InteropError::UnknownColumns {
                columns: headers
                    .iter()
                    .take(6)
                    .map(|h| text::visible(h, false).into_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        // French, and every language `synonym` knows except English, write dates day first.
        let day_first = day_first
            || normalised
                .iter()
                .any(|h| matches!(h.as_str(), "prénom" | "société" | "anniversaire" | "nom"));
        {
            let mut t = track.borrow_mut();
            t.record_start = rows.position().byte();
        }
        Ok(CsvReader {
            legacy_note,
            rows,
            track,
            delimiter,
            columns,
            headers,
            order: if day_first {
                DateOrder::DayFirst
            } else {
                DateOrder::MonthFirst
            },
            record: csv::ByteRecord::new(),
            done: false,
            filled: vec![0; watched.len()],
            watched,
            guessed,
        })
    }

    /// Columns that were not imported although they held something: (header, rows with a
    /// value), so far (complete once the reader is exhausted). Columns a mapping file names
    /// `ignore` are not listed.
    pub fn unmapped(&self) -> Vec<(String, u64)> {
        self.headers
            .iter()
            .zip(self.watched.iter().zip(&self.filled))
            .filter(|(_, (watched, filled))| **watched && **filled > 0)
            .map(|(h, (_, filled))| {
                let shown = text::visible(h.trim_start_matches('\u{feff}'), false);
                (shown.trim().to_string(), *filled)
            })
            .collect()
    }

    /// Columns read through a synonym (`Handy`, `Courriel`, `Nachname` …): (header, what
    /// rolo took it for), so the user can check the guesses.
    pub fn guessed(&self) -> &[(String, String)] {
        &self.guessed
    }

    /// The header cells as read.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// A quoted cell that holds lines shaped like whole rows of this file (as many delimiters
    /// as the header has, less one): a quote that was never closed swallowed them. Reported
    /// with the line where the quote opened and what was swallowed, instead of importing
    /// one contact with the rest of the file in a cell.
    fn swallowed(&self, line: u64, end_line: u64) -> Option<ImportProblem> {
        let columns = self.columns.len();
        if columns < 2 || end_line <= line + 1 {
            return None;
        }
        let delimiter = self.delimiter;
        let mut rows = 0u64;
        for cell in self.record.iter().filter(|c| c.contains(&b'\n')) {
            for piece in cell.split(|b| *b == b'\n').skip(1) {
                let cells = piece.iter().filter(|b| **b == delimiter).count() + 1;
                if cells == columns && piece.trim_ascii().len() >= columns {
                    rows += 1;
                }
            }
        }
        // One row-shaped line can be a note; two, or one reaching the end of the file, is a
        // quote left open.
        // A last cell ending in a line break: the quote ran to the end of the file.
        let at_end = self.rows.is_done()
            || self
                .record
                .get(self.record.len().saturating_sub(1))
                .is_some_and(|c| c.ends_with(b"\n"));
        (rows >= 2 || (rows >= 1 && at_end)).then(|| {
            let until = if at_end {
                "the end of the file".to_string()
            } else {
                format!("line {}", end_line.saturating_sub(1))
            };
            ImportProblem::new(
                line,
                format!(
                    "a quote opened in this row is not closed until {until}: {rows} line(s) that look like rows were read into one cell; nothing of this row was imported — close the quote and import again"
                ),
            )
        })
    }

    fn row(&self, line: u64) -> Result<ImportRecord, ImportProblem> {
        let mut warnings = Vec::new();
        if self.record.len() > self.columns.len()
            && self
                .record
                .iter()
                .skip(self.columns.len())
                .any(|c| !c.trim_ascii().is_empty())
        {
            return Err(ImportProblem::new(
                line,
                format!(
                    "the row has {} cells but the header has {} (a missing quote?)",
                    self.record.len(),
                    self.columns.len()
                ),
            ));
        }
        let mut b = RowBuild::default();
        for (i, cell) in self.record.iter().enumerate() {
            let Some(target) = self.columns.get(i) else {
                break;
            };
            if *target == Target::Ignore {
                continue;
            }
            let value = match String::from_utf8_lossy(cell) {
                Cow::Borrowed(s) => Cow::Borrowed(s),
                Cow::Owned(s) => {
                    warnings.push(format!(
                        "line {line}: column `{}` holds bytes that are not UTF-8; replaced with � (try --encoding)",
                        self.headers.get(i).map_or("?", String::as_str)
                    ));
                    Cow::Owned(s)
                }
            };
            let value = unneutralise(value.trim());
            if value.is_empty() {
                continue;
            }
            b.take(target, value, line, self.order, &mut warnings);
        }
        if b.is_empty() {
            return Err(ImportProblem::new(line, "empty row"));
        }
        finish(line, b.into_draft(), warnings)
    }
}

impl<R: Read> Iterator for CsvReader<R> {
    type Item = Result<ImportRecord, ImportProblem>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let read = self.rows.read_byte_record(&mut self.record);
            let start = self.record.position().map_or(0, csv::Position::byte);
            let end = self.rows.position().byte();
            let inner = self
                .record
                .iter()
                .map(|c| c.iter().filter(|b| **b == b'\n').count() as u64)
                .sum::<u64>();
            let (line, overflow) = {
                let mut t = self.track.borrow_mut();
                t.record_start = end;
                (t.record_line(start), t.overflow)
            };
            // The line after the record's last one.
            let end_line = line + inner + 1;
            match read {
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Ok(true) => {
                    if self.record.iter().all(|c| c.trim_ascii().is_empty()) {
                        continue; // blank line
                    }
                    if let Some(problem) = self.swallowed(line, end_line) {
                        return Some(Err(problem));
                    }
                    if let Some(note) = self.legacy_note.take() {
                        return Some(match self.row(line) {
                            Ok(mut r) => {
                                r.warnings.insert(0, note);
                                Ok(r)
                            }
                            Err(problem) => {
                                // Said with the next row that imports.
                                self.legacy_note = Some(note);
                                Err(problem)
                            }
                        });
                    }
                    for (i, cell) in self.record.iter().enumerate() {
                        if self.watched.get(i) == Some(&true) && !cell.trim_ascii().is_empty() {
                            self.filled[i] += 1;
                        }
                    }
                    return Some(self.row(line));
                }
                Err(e) => {
                    let line = match e.position() {
                        Some(p) => self.track.borrow_mut().record_line(p.byte()),
                        None => line,
                    };
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        self.done = true;
                    }
                    let message = if overflow {
                        format!(
                            "the row starting here is longer than {} MiB (an unclosed quote, or not a CSV file?); the rest of the file was not read",
                            MAX_RECORD_BYTES / (1024 * 1024)
                        )
                    } else {
                        format!("unreadable row: {e}")
                    };
                    return Some(Err(ImportProblem::new(line, message)));
                }
            }
        }
    }
}

/// A consent status as rolo writes it, or as mailing tools and people commonly do (`yes`,
/// `opt-out`, `unsubscribed`, …).
fn parse_consent_status(value: &str) -> Option<ConsentStatus> {
    if let Ok(s) = value.parse::<ConsentStatus>() {
        return Some(s);
    }
    let v = value.trim().to_lowercase().replace(['_', ' '], "-");
    Some(match v.as_str() {
        "yes" | "y" | "true" | "1" | "opt-in" | "opted-in" | "optin" | "subscribed" | "allowed"
        | "ja" | "oui" | "sí" | "si" | "sim" | "da" => ConsentStatus::Granted,
        "no" | "n" | "false" | "0" | "opt-out" | "opted-out" | "optout" | "unsubscribed"
        | "refused" | "withdrawn" | "nein" | "non" | "não" | "nao" | "ne" => ConsentStatus::Denied,
        "" | "?" | "none" | "not-asked" => ConsentStatus::Unknown,
        _ => return None,
    })
}

/// What a column was read as, for people (`email`, `phone (mobile)`, `city` …).
fn describe(t: &Target) -> String {
    let labelled = |what: &str, label: &str| {
        if label.is_empty() {
            what.to_string()
        } else {
            format!("{what} ({label})")
        }
    };
    match t {
        Target::Ignore => "nothing".into(),
        Target::Name => "name".into(),
        Target::GivenName => "given name".into(),
        Target::FamilyName => "family name".into(),
        Target::Organization => "organisation".into(),
        Target::Title => "title".into(),
        Target::Notes => "notes".into(),
        Target::Tags => "tags".into(),
        Target::Birthday => "birthday".into(),
        Target::Uid => "uid".into(),
        Target::Stage => "stage".into(),
        Target::Owner => "owner".into(),
        Target::Language => "language".into(),
        Target::Tier => "tier".into(),
        Target::Source => "source".into(),
        Target::Custom(k) => format!("custom field {k}"),
        Target::CustomJson => "custom fields".into(),
        Target::PreferredChannel => "preferred channel".into(),
        Target::ConsentStatus(c) => format!("{c} consent"),
        Target::ConsentHistory => "consent history".into(),
        Target::Point {
            kind: PointKind::Email,
            label,
            ..
        } => labelled("email", label),
        Target::Point {
            kind: PointKind::Phone,
            label,
            ..
        } => labelled("phone", label),
        Target::Addr { part, .. } => match part {
            AddrPart::City => "city",
            AddrPart::Street | AddrPart::Extended | AddrPart::PoBox => "street",
            AddrPart::Region => "region",
            AddrPart::Postcode => "postcode",
            AddrPart::Country => "country",
            AddrPart::Label => "address label",
            AddrPart::Formatted => "address",
        }
        .into(),
        Target::AddressLine => "address".into(),
        Target::PointLabels(PointKind::Email) => "email labels".into(),
        Target::PointLabels(PointKind::Phone) => "phone labels".into(),
    }
}

/// Removes the `'` rolo's export puts before formula-like cells.
fn unneutralise(v: &str) -> &str {
    match v.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => v,
    }
}

#[derive(Default)]
struct PointSlot {
    kind: Option<PointKind>,
    slot: String,
    values: Vec<String>,
    labels: Vec<String>,
    default_label: String,
    primary: bool,
}

#[derive(Default)]
struct RowBuild {
    draft: ContactDraft,
    points: Vec<PointSlot>,
    addresses: Vec<(String, Address, String)>,
    /// `consent_CHANNEL` cells, applied over the history once the whole row is read.
    consent_status: Vec<(Channel, ConsentStatus)>,
    /// `email_labels` / `phone_labels` cells, applied to the values in order.
    point_labels: Vec<(PointKind, Vec<String>)>,
    any: bool,
}

fn split_multi(v: &str) -> impl Iterator<Item = &str> {
    v.split(":::").map(str::trim).filter(|s| !s.is_empty())
}

impl RowBuild {
    fn is_empty(&self) -> bool {
        !self.any
    }

    fn take(
        &mut self,
        target: &Target,
        value: &str,
        line: u64,
        order: DateOrder,
        warnings: &mut Vec<String>,
    ) {
        self.any = true;
        let d = &mut self.draft;
        let append = |field: &mut String, v: &str| {
            if !field.is_empty() {
                field.push(' ');
            }
            field.push_str(v);
        };
        match target {
            Target::Ignore => {}
            Target::Name => d.name = value.into(),
            Target::GivenName => append(&mut d.given_name, value),
            Target::FamilyName => append(&mut d.family_name, value),
            Target::Organization => d.organization = value.into(),
            Target::Title => d.title = value.into(),
            Target::Notes => {
                if !d.notes.is_empty() {
                    d.notes.push('\n');
                }
                d.notes.push_str(value);
            }
            Target::Tags => {
                for tag in value.split([';', ',']).flat_map(split_multi) {
                    let tag = tag.trim_start_matches('*').trim();
                    if !tag.is_empty() && !SYSTEM_LABELS.contains(&tag.to_lowercase().as_str()) {
                        d.tags.push(tag.to_string());
                    }
                }
            }
            Target::Birthday => match parse_birthday(value, order) {
                Ok(b) => d.birthday = b,
                Err(msg) => warnings.push(format!("line {line}: {msg}; birthday ignored")),
            },
            Target::Uid => d.uid = value.into(),
            Target::Stage => match value.parse::<Stage>() {
                Ok(s) => d.stage = Some(s),
                Err(msg) => warnings.push(format!("line {line}: {msg}; stage ignored")),
            },
            Target::Owner => d.owner = value.into(),
            Target::Language => d.language = value.into(),
            Target::Tier => d.tier = value.into(),
            Target::Source => d.source = value.into(),
            Target::Custom(key) => {
                d.custom.insert(key.clone(), CustomValue::guess(value));
            }
            Target::CustomJson => {
                match serde_json::from_str::<BTreeMap<String, CustomValue>>(value) {
                    // Single `custom.KEY` columns win over the same key in the JSON cell.
                    Ok(fields) => {
                        for (k, v) in fields {
                            d.custom.entry(k).or_insert(v);
                        }
                    }
                    Err(e) => warnings.push(format!(
                        "line {line}: the custom cell is not rolo's JSON object of fields ({e}); custom fields ignored"
                    )),
                }
            }
            Target::PreferredChannel => match value.parse::<Channel>() {
                Ok(c) => d.preferred_channel = Some(c),
                Err(msg) => warnings.push(format!("line {line}: {msg}; preferred channel ignored")),
            },
            Target::ConsentHistory => match serde_json::from_str::<Vec<Consent>>(value) {
                Ok(history) => d.consent.extend(history),
                Err(e) => warnings.push(format!(
                    "line {line}: the consent cell is not rolo's JSON list of consent statements ({e}); consent history ignored"
                )),
            },
            Target::ConsentStatus(channel) => match parse_consent_status(value) {
                Some(status) => self.consent_status.push((*channel, status)),
                None => warnings.push(format!(
                    "line {line}: `{value}` is not a consent status for {channel} (granted, denied, unknown); consent ignored"
                )),
            },
            Target::PointLabels(kind) => {
                let labels = value
                    .split(":::")
                    .map(|l| l.trim().to_lowercase())
                    .collect();
                self.point_labels.push((*kind, labels));
            }
            Target::AddressLine => {
                let a = self.address("line", "");
                if a.street.is_empty() {
                    a.street = value.into();
                }
            }
            Target::Addr { slot, part, label } => {
                let a = self.address(slot, label);
                let field = match part {
                    AddrPart::Label => &mut a.label,
                    AddrPart::Street => &mut a.street,
                    AddrPart::Extended | AddrPart::PoBox => {
                        let v = value.to_string();
                        append(&mut a.street, &v);
                        return;
                    }
                    AddrPart::City => &mut a.city,
                    AddrPart::Region => &mut a.region,
                    AddrPart::Postcode => &mut a.postcode,
                    AddrPart::Country => &mut a.country,
                    AddrPart::Formatted => {
                        if a.street.is_empty() {
                            a.street = value.replace('\n', ", ");
                        }
                        return;
                    }
                };
                *field = value.into();
                if *part == AddrPart::Label {
                    a.label = a.label.trim_start_matches('*').trim().to_string();
                }
            }
            Target::Point {
                kind,
                slot,
                is_label,
                label,
            } => {
                let index = match self.points.iter().position(|p| p.slot == *slot) {
                    Some(i) => i,
                    None => {
                        self.points.push(PointSlot {
                            slot: slot.clone(),
                            default_label: label.clone(),
                            ..PointSlot::default()
                        });
                        self.points.len() - 1
                    }
                };
                let p = &mut self.points[index];
                p.kind = Some(*kind);
                if *is_label {
                    for l in split_multi(value) {
                        let l = match l.strip_prefix('*') {
                            Some(rest) => {
                                p.primary = true;
                                rest.trim()
                            }
                            None => l,
                        };
                        p.labels.push(l.to_string());
                    }
                } else {
                    p.values.extend(split_multi(value).map(str::to_string));
                }
            }
        }
    }

    fn address(&mut self, slot: &str, label: &str) -> &mut Address {
        let index = match self.addresses.iter().position(|(s, _, _)| s == slot) {
            Some(i) => i,
            None => {
                self.addresses.push((
                    slot.to_string(),
                    Address {
                        label: label.to_string(),
                        ..Address::default()
                    },
                    label.to_string(),
                ));
                self.addresses.len() - 1
            }
        };
        &mut self.addresses[index].1
    }

    fn into_draft(mut self) -> ContactDraft {
        // A status column that says something else than the history's latest statement (edited
        // in a spreadsheet, or written by a mailing tool) is a new statement, made now.
        let now = At::now();
        for (channel, status) in std::mem::take(&mut self.consent_status) {
            let latest = self
                .draft
                .consent
                .iter()
                .rev()
                .find(|c| c.channel == channel)
                .map_or(ConsentStatus::Unknown, |c| c.status);
            if latest != status {
                self.draft.consent.push(Consent {
                    channel,
                    status,
                    at: now,
                    source: CONSENT_COLUMN_SOURCE.into(),
                    purpose: String::new(),
                });
            }
        }
        // A primary-marked slot (`* Work`) goes first; the order is kept otherwise.
        self.points.sort_by_key(|p| !p.primary);
        for p in self.points {
            let Some(kind) = p.kind else { continue };
            for (i, value) in p.values.iter().enumerate() {
                let label = p
                    .labels
                    .get(i)
                    .or(p.labels.last())
                    .cloned()
                    .unwrap_or_else(|| p.default_label.clone());
                let point = Labelled {
                    label: label.to_lowercase(),
                    value: value.clone(),
                };
                match kind {
                    PointKind::Email => self.draft.emails.push(point),
                    PointKind::Phone => self.draft.phones.push(point),
                }
            }
        }
        for (kind, labels) in std::mem::take(&mut self.point_labels) {
            let points = match kind {
                PointKind::Email => &mut self.draft.emails,
                PointKind::Phone => &mut self.draft.phones,
            };
            for (point, label) in points.iter_mut().zip(labels) {
                if point.label.is_empty() {
                    point.label = label;
                }
            }
        }
        // rolo's export has the first address twice, in parts and on one line (`address`);
        // an older one has only its city beside the line. Either way it is one address.
        let line = self
            .addresses
            .iter()
            .position(|(slot, _, _)| slot == "line");
        let parts = self.addresses.iter().position(|(slot, _, _)| slot == "a");
        if let (Some(li), Some(pi)) = (line, parts) {
            let whole = self.addresses[li].1.street.clone();
            let p = &self.addresses[pi].1;
            let only_city = p.street.is_empty()
                && p.postcode.is_empty()
                && p.region.is_empty()
                && p.country.is_empty();
            if p.one_line() == whole {
                self.addresses.remove(li);
            } else if only_city && whole.split(", ").any(|part| part == p.city) {
                self.addresses.remove(pi);
            }
        }
        self.draft.addresses = self
            .addresses
            .into_iter()
            .map(|(_, a, _)| a)
            .filter(|a| !a.one_line().trim().is_empty())
            .collect();
        self.draft
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

fn is_plain_number(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut seen_digit = false;
    let mut seen_point = false;
    for c in body.chars() {
        match c {
            '0'..='9' => seen_digit = true,
            '.' | ',' if !seen_point => seen_point = true,
            _ => return false,
        }
    }
    seen_digit
}

fn is_phone_number(s: &str) -> bool {
    let Some(body) = s.strip_prefix('+') else {
        return false;
    };
    body.starts_with(|c: char| c.is_ascii_digit() || c == '(')
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || " -().".contains(c))
        && body.chars().filter(char::is_ascii_digit).count() >= 6
}

/// A phone cell a spreadsheet would turn into a number or a formula (`0012345678` loses its
/// zeros, `+385 1 234 5678` becomes `#NAME?`): digits, spaces and `+-().` only, starting with a
/// digit or `+`. [`phone_cell`] writes such a cell after a tab.
fn is_spreadsheet_number(cell: &str) -> bool {
    cell.starts_with(|c: char| c.is_ascii_digit() || c == '+')
        && cell.split(MULTI_SEPARATOR).all(|one| {
            one.chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        })
}

/// A phone cell kept text in a spreadsheet: after a leading tab, which Excel, LibreOffice and
/// Google Sheets keep as part of the text (so no lost leading zeros, no formula), and which
/// Google Contacts, Outlook and rolo's own reader trim on import. Only digits, spaces and
/// `+-().` follow the tab, so a tool that strips it finds at worst arithmetic, never a call.
/// Every other phone cell is [`neutralise`]d like any cell.
pub fn phone_cell(cell: &str) -> Cow<'_, str> {
    if is_spreadsheet_number(cell) {
        Cow::Owned(format!("\t{cell}"))
    } else {
        neutralise(cell)
    }
}

/// A cell made safe for spreadsheets: a `'` before anything that would run as a formula.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let risky = match cell.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !(is_plain_number(cell) || is_phone_number(cell)),
        _ => false,
    };
    if risky {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Writes contacts as CSV under [`EXPORT_HEADER`].
pub struct CsvWriter<W: Write> {
    out: csv::Writer<W>,
    raw: bool,
}

impl<W: Write> CsvWriter<W> {
    /// Writes the header. With `raw`, cells are written as they are (no formula neutralisation).
    pub fn new(out: W, raw: bool) -> io::Result<Self> {
        let mut out = csv::Writer::from_writer(out);
        out.write_record(EXPORT_HEADER).map_err(csv_io)?;
        Ok(CsvWriter { out, raw })
    }

    pub fn write(&mut self, contact: &Contact, organization: Option<&str>) -> io::Result<()> {
        let c = contact;
        let nth = |points: &[Labelled], i: usize| -> String {
            points.get(i).map(|p| p.value.clone()).unwrap_or_default()
        };
        let rest = |points: &[Labelled]| -> String {
            points
                .iter()
                .skip(2)
                .map(|p| p.value.as_str())
                .collect::<Vec<_>>()
                .join(MULTI_SEPARATOR)
        };
        let consent_column = |channel: Channel| -> String {
            if c.consent.iter().any(|s| s.channel == channel) {
                c.consent_for(channel).to_string()
            } else {
                String::new()
            }
        };
        let json_cell = |value: serde_json::Result<String>| value.map_err(io::Error::other);
        let first = c.addresses.first();
        let part = |f: fn(&Address) -> &String| first.map(|a| f(a).clone()).unwrap_or_default();
        let labels = |points: &[Labelled]| -> String {
            if points.iter().all(|p| p.label.is_empty()) {
                String::new()
            } else {
                points
                    .iter()
                    .map(|p| p.label.as_str())
                    .collect::<Vec<_>>()
                    .join(MULTI_SEPARATOR)
            }
        };
        let cells: [String; 39] = [
            c.id.to_string(),
            c.name.clone(),
            c.given_name.clone(),
            c.family_name.clone(),
            organization.unwrap_or_default().to_string(),
            c.title.clone(),
            nth(&c.emails, 0),
            nth(&c.emails, 1),
            rest(&c.emails),
            nth(&c.phones, 0),
            nth(&c.phones, 1),
            rest(&c.phones),
            c.city().unwrap_or_default().to_string(),
            c.addresses
                .first()
                .map(Address::one_line)
                .unwrap_or_default(),
            c.birthday.map(|b| b.to_string()).unwrap_or_default(),
            c.language.clone(),
            c.stage.to_string(),
            c.tier.clone(),
            c.owner.clone(),
            c.source.clone(),
            c.tags.join(";"),
            c.notes.clone(),
            c.created.at.to_string(),
            c.updated.at.to_string(),
            c.preferred_channel
                .map(|p| p.to_string())
                .unwrap_or_default(),
            consent_column(CONSENT_COLUMNS[0]),
            consent_column(CONSENT_COLUMNS[1]),
            consent_column(CONSENT_COLUMNS[2]),
            consent_column(CONSENT_COLUMNS[3]),
            if c.consent.is_empty() {
                String::new()
            } else {
                json_cell(serde_json::to_string(&c.consent))?
            },
            if c.custom.is_empty() {
                String::new()
            } else {
                json_cell(serde_json::to_string(&c.custom))?
            },
            c.uid.clone(),
            part(|a| &a.street),
            part(|a| &a.postcode),
            part(|a| &a.region),
            part(|a| &a.country),
            part(|a| &a.label),
            labels(&c.emails),
            labels(&c.phones),
        ];
        let raw = self.raw;
        let notes_column = 21;
        let phone_columns = 9..=11;
        let shown: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let visible = text::visible(cell, i == notes_column);
                if raw {
                    visible.into_owned()
                } else if phone_columns.contains(&i) {
                    phone_cell(&visible).into_owned()
                } else {
                    neutralise(&visible).into_owned()
                }
            })
            .collect();
        self.out.write_record(&shown).map_err(csv_io)?;
        Ok(())
    }

    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| {
            let kind = e.error().kind();
            io::Error::new(kind, e.to_string())
        })
    }
}

/// A csv write error as the I/O error underneath, keeping its kind (a closed pipe stays one).
fn csv_io(e: ::csv::Error) -> io::Error {
    let message = e.to_string();
    match e.into_kind() {
        ::csv::ErrorKind::Io(io) => io,
        _ => io::Error::other(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_indexed_headers() {
        assert!(matches!(
            google_indexed("e-mail 2 - value"),
            Some(Target::Point {
                kind: PointKind::Email,
                is_label: false,
                ..
            })
        ));
        assert!(matches!(
            google_indexed("phone 1 - label"),
            Some(Target::Point {
                kind: PointKind::Phone,
                is_label: true,
                ..
            })
        ));
        assert_eq!(google_indexed("relation 1 - value"), Some(Target::Ignore));
    }

    #[test]
    fn outlook_addresses_in_three_languages() {
        assert!(matches!(
            outlook_address("business postal code"),
            Some(Target::Addr {
                part: AddrPart::Postcode,
                ..
            })
        ));
        assert!(matches!(
            outlook_address("ort geschäftlich"),
            Some(Target::Addr {
                part: AddrPart::City,
                ..
            })
        ));
        assert!(matches!(
            outlook_address("ville (domicile)"),
            Some(Target::Addr {
                part: AddrPart::City,
                ..
            })
        ));
    }

    #[test]
    fn mapping_errors_name_the_column() {
        let err = ColumnMap::parse("\"Mail\" = \"emial\"\n", "map.toml").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("map.toml") && msg.contains("Mail") && msg.contains("emial"),
            "{msg}"
        );
        let err = ColumnMap::parse("x = = 1\n", "map.toml").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
