//! Demo data: what a new user finds on the first start of an empty database.
//!
//! Offerers of different sizes (a theatre, a cinema chain, a bookshop chain
//! with 100+ venues, a museum, a municipality with a venue that has no SIRET
//! and a festival awaiting validation), public and private providers, pro
//! users and a support agent sharing [`DEMO_PASSWORD`], venue access grants
//! through both user channels (with their audit trail), offers, bookings in
//! every status and pending provider account requests. No API key is created:
//! keys are issued through the real workflow.
//!
//! Every timestamp is computed relative to the transaction's `now()`, so the
//! data always looks recent. Ages are written as "days ago" in the tables
//! below; a deterministic time-of-day jitter (under ten hours) is added so
//! that events of different days never swap order.

use std::collections::HashMap;

use anyhow::{Context, anyhow, ensure};
use sqlx::{PgConnection, PgPool};

use crate::auth::password::hash_password;
use crate::domain::{Siren, siret_from_siren_and_nic_prefix};

/// The password of every demo account (printed at start-up).
pub const DEMO_PASSWORD: &str = "Demo-Culture-Pass-2026";

/// A seeded account, listed at start-up so people know how to sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoAccount {
    pub email: &'static str,
    /// `"pro"` or `"support"`.
    pub role: &'static str,
    pub description: &'static str,
}

pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        email: "theatre@demo.venue-access.test",
        role: "pro",
        description: "member of Théâtre du Grand Carré (2 venues in Lyon)",
    },
    DemoAccount {
        email: "cinema@demo.venue-access.test",
        role: "pro",
        description: "member of Cinémas Lumière (7 cinemas)",
    },
    DemoAccount {
        email: "librairie@demo.venue-access.test",
        role: "pro",
        description: "member of Librairies Page & Plume (100+ bookshops, owns a private provider)",
    },
    DemoAccount {
        email: "musee@demo.venue-access.test",
        role: "pro",
        description: "member of Musée des Automates et de la Mécanique",
    },
    DemoAccount {
        email: "mairie@demo.venue-access.test",
        role: "pro",
        description: "member of Commune de Quimperlé (one venue without SIRET)",
    },
    DemoAccount {
        email: "festival@demo.venue-access.test",
        role: "pro",
        description: "member of Association Jazz en Garrigue (offerer awaiting validation)",
    },
    DemoAccount {
        email: "programmation@demo.venue-access.test",
        role: "pro",
        description: "member of Théâtre du Grand Carré and Cinémas Lumière",
    },
    DemoAccount {
        email: "support@demo.venue-access.test",
        role: "support",
        description: "pass Culture support agent (back-office)",
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    Seeded,
    AlreadyPopulated,
}

// ---------------------------------------------------------------------------
// Data tables
// ---------------------------------------------------------------------------

/// (key, name, SIREN, status, created days ago)
#[rustfmt::skip]
const OFFERERS: &[(&str, &str, &str, &str, i32)] = &[
    ("theatre", "Théâtre du Grand Carré", "832147656", "validated", 420),
    ("cinema", "Cinémas Lumière", "449172832", "validated", 390),
    ("books", "Librairies Page & Plume", "512388463", "validated", 410),
    ("museum", "Musée des Automates et de la Mécanique", "784631202", "validated", 330),
    ("city", "Commune de Quimperlé", "212902332", "validated", 280),
    ("festival", "Association Jazz en Garrigue", "901274589", "new", 4),
];

/// The justification of the only venue without SIRET.
const NO_SIRET_COMMENT: &str = "Lieu de spectacle municipal géré en régie, sans SIRET propre";

/// Accessibility flags: yes, no, not declared.
const Y: Option<bool> = Some(true);
const N: Option<bool> = Some(false);
const U: Option<bool> = None;

/// A hand-written venue: key, offerer key, legal name, public name, NIC body
/// (`None`: no SIRET, see [`NO_SIRET_COMMENT`]), address, postal code, city,
/// activity domain, accessibility (audio, mental, motor, visual), created days ago.
#[rustfmt::skip]
type VenueRow = (
    &'static str, &'static str, &'static str, Option<&'static str>, Option<u32>,
    &'static str, &'static str, &'static str, &'static str, [Option<bool>; 4], i32,
);

#[rustfmt::skip]
const VENUES: &[VenueRow] = &[
    ("theatre-main", "theatre", "Théâtre du Grand Carré", Some("Le Grand Carré"), Some(1),
        "12 rue de la Charité", "69002", "Lyon", "PERFORMING_ARTS", [Y, Y, Y, N], 415),
    ("theatre-studio", "theatre", "Studio du Grand Carré", Some("Le Petit Carré"), Some(2),
        "5 rue des Remparts d'Ainay", "69002", "Lyon", "PERFORMING_ARTS", [Y, U, N, U], 300),
    ("cine-terreaux", "cinema", "Cinéma Lumière Terreaux", Some("Lumière Terreaux"), Some(1),
        "40 rue du Président Édouard Herriot", "69001", "Lyon", "MOVIE", [Y, Y, Y, Y], 388),
    ("cine-bellecour", "cinema", "Cinéma Lumière Bellecour", Some("Lumière Bellecour"), Some(2),
        "12 rue de la Barre", "69002", "Lyon", "MOVIE", [Y, N, Y, N], 380),
    ("cine-villeurbanne", "cinema", "Cinéma Lumière Gratte-Ciel", None, Some(3),
        "18 avenue Henri Barbusse", "69100", "Villeurbanne", "MOVIE", [Y, Y, Y, U], 350),
    ("cine-grenoble", "cinema", "Cinéma Lumière Grenoble", Some("Lumière Grenoble"), Some(4),
        "4 rue Félix Poulat", "38000", "Grenoble", "MOVIE", [N, U, Y, U], 330),
    ("cine-saint-etienne", "cinema", "Cinéma Lumière Saint-Étienne", None, Some(5),
        "21 rue Michelet", "42000", "Saint-Étienne", "MOVIE", [U, U, U, U], 310),
    ("cine-annecy", "cinema", "Cinéma Lumière Annecy", Some("Lumière Annecy"), Some(6),
        "21 rue Sommeiller", "74000", "Annecy", "MOVIE", [Y, N, Y, N], 280),
    ("cine-chambery", "cinema", "Cinéma Lumière Chambéry", Some("Lumière Chambéry"), Some(7),
        "12 rue de Boigne", "73000", "Chambéry", "MOVIE", [Y, Y, N, N], 240),
    ("museum-main", "museum", "Musée des Automates et de la Mécanique", Some("Musée des Automates"), Some(1),
        "8 rue de la Convention", "25000", "Besançon", "MUSEUM", [Y, Y, Y, Y], 325),
    ("museum-reserves", "museum", "Réserves visitables du Musée des Automates", None, Some(2),
        "27 avenue de Chardonnet", "25000", "Besançon", "PATRIMONY_TOURISM", [N, U, N, U], 120),
    ("city-library", "city", "Médiathèque municipale de Quimperlé", Some("Médiathèque de Quimperlé"), Some(1),
        "18 place Saint-Michel", "29300", "Quimperlé", "LIBRARY", [Y, Y, Y, Y], 275),
    ("city-hall", "city", "Salle municipale du Coat-Kaër", Some("Espace Coat-Kaër"), None,
        "2 rue Jacques Prévert", "29300", "Quimperlé", "PERFORMING_ARTS", [Y, U, Y, U], 270),
    ("festival-site", "festival", "Festival Jazz en Garrigue", Some("Jazz en Garrigue"), Some(1),
        "Chemin des Cigales", "30250", "Sommières", "FESTIVAL", [U, U, U, U], 4),
];

/// The bookshop chain's shops: (city, postal code, number of shops, streets
/// of the first shops: real streets of that postal code; the other shops get
/// a street from [`STREETS`]).
#[rustfmt::skip]
const BOOKSHOP_CITIES: &[(&str, &str, usize, &[&str])] = &[
    ("Paris", "75005", 3, &["rue Saint-Jacques", "boulevard Saint-Michel", "rue Mouffetard"]),
    ("Paris", "75006", 2, &["rue de Vaugirard", "boulevard Saint-Germain"]),
    ("Paris", "75011", 2, &["rue de la Roquette", "boulevard Voltaire"]),
    ("Paris", "75014", 2, &["rue Daguerre", "avenue du Général Leclerc"]),
    ("Paris", "75018", 2, &["rue des Abbesses", "rue Caulaincourt"]),
    ("Lyon", "69002", 3, &["rue de la République", "rue Mercière", "rue Victor Hugo"]),
    ("Lyon", "69007", 2, &["avenue Jean Jaurès", "Grande Rue de la Guillotière"]),
    ("Marseille", "13001", 2, &["La Canebière", "rue de Rome"]),
    ("Marseille", "13006", 2, &["rue Paradis", "cours Julien"]),
    ("Toulouse", "31000", 3, &["rue d'Alsace-Lorraine"]), ("Nice", "06000", 2, &["avenue Jean Médecin"]),
    ("Nantes", "44000", 3, &["rue Crébillon"]), ("Montpellier", "34000", 3, &["rue de la Loge"]),
    ("Strasbourg", "67000", 3, &["rue des Grandes Arcades"]), ("Bordeaux", "33000", 3, &["rue Sainte-Catherine"]),
    ("Lille", "59000", 3, &[]), ("Rennes", "35000", 3, &["rue Le Bastard"]), ("Reims", "51100", 2, &[]),
    ("Toulon", "83000", 2, &[]), ("Saint-Étienne", "42000", 2, &[]), ("Le Havre", "76600", 2, &[]),
    ("Grenoble", "38000", 3, &[]), ("Dijon", "21000", 3, &["rue de la Liberté"]), ("Angers", "49100", 2, &[]),
    ("Nîmes", "30000", 2, &[]), ("Villeurbanne", "69100", 2, &[]), ("Clermont-Ferrand", "63000", 3, &[]),
    ("Le Mans", "72000", 2, &[]), ("Aix-en-Provence", "13100", 3, &["cours Mirabeau"]), ("Brest", "29200", 2, &["rue de Siam"]),
    ("Tours", "37000", 3, &[]), ("Amiens", "80000", 2, &[]), ("Limoges", "87000", 2, &[]), ("Annecy", "74000", 2, &[]),
    ("Perpignan", "66000", 2, &[]), ("Metz", "57000", 2, &[]), ("Besançon", "25000", 2, &[]),
    ("Orléans", "45000", 2, &[]), ("Rouen", "76000", 3, &["rue du Gros-Horloge"]), ("Caen", "14000", 2, &[]),
    ("Nancy", "54000", 2, &[]), ("Poitiers", "86000", 2, &[]), ("La Rochelle", "17000", 2, &[]), ("Pau", "64000", 2, &[]),
    ("Avignon", "84000", 2, &[]), ("Bayonne", "64100", 1, &[]), ("Quimper", "29000", 1, &[]), ("Ajaccio", "20000", 1, &[]),
    ("Chartres", "28000", 1, &[]), ("Vannes", "56000", 1, &[]), ("Colmar", "68000", 1, &[]), ("Arles", "13200", 1, &[]),
];

/// Street names found in almost every French town (30: coprime with the step used below).
#[rustfmt::skip]
const STREETS: &[&str] = &[
    "rue de la République", "rue Victor Hugo", "avenue Jean Jaurès", "place du Marché", "rue Nationale",
    "Grande Rue", "rue Gambetta", "boulevard Carnot", "rue Pasteur", "rue du Général de Gaulle",
    "rue de la Paix", "place de l'Hôtel de Ville", "rue des Écoles", "avenue de la Gare", "rue Jean Moulin",
    "rue Émile Zola", "rue Voltaire", "cours Jean Jaurès", "rue du Commerce", "rue Saint-Martin",
    "rue Thiers", "avenue du Maréchal Foch", "rue Anatole France", "rue Aristide Briand", "boulevard Clemenceau",
    "rue Paul Bert", "rue Jules Ferry", "rue des Halles", "place de la Libération", "rue de Verdun",
];

/// (email, display name, offerer keys (first member of an offerer founded it
/// and invited the next ones), created days ago). Roles come from [`DEMO_ACCOUNTS`].
#[rustfmt::skip]
const USER_PROFILES: &[(&str, &str, &[&str], i32)] = &[
    ("theatre@demo.venue-access.test", "Claire Dubois", &["theatre"], 418),
    ("cinema@demo.venue-access.test", "Julien Moreau", &["cinema"], 389),
    ("librairie@demo.venue-access.test", "Sophie Martin", &["books"], 408),
    ("musee@demo.venue-access.test", "Antoine Lefèvre", &["museum"], 328),
    ("mairie@demo.venue-access.test", "Nathalie Guérin", &["city"], 278),
    ("festival@demo.venue-access.test", "Karim Benali", &["festival"], 4),
    ("programmation@demo.venue-access.test", "Élodie Garnier", &["theatre", "cinema"], 150),
    ("support@demo.venue-access.test", "Mathilde Rousseau", &[], 520),
];

/// (key, name, kind, is active, technical contact, owner offerer key, created days ago)
#[rustfmt::skip]
type ProviderRow = (&'static str, &'static str, &'static str, bool, &'static str, Option<&'static str>, i32);

#[rustfmt::skip]
const PROVIDERS: &[ProviderRow] = &[
    ("ticketis", "Billetterie Ticketis", "public", true, "api@ticketis.example", None, 510),
    ("librairie-connect", "Librairie Connect", "public", true, "integration@librairie-connect.example", None, 480),
    ("cinesoft", "CinéSoft", "public", true, "support-technique@cinesoft.example", None, 450),
    ("stockaro", "Stockaro", "public", true, "dev@stockaro.example", None, 360),
    ("festik", "Festik", "public", true, "tech@festik.example", None, 300),
    ("visitoria", "Visitoria Billetterie Musées", "public", true, "api@visitoria.example", None, 260),
    ("orphee", "Billetterie Orphée", "public", false, "contact-technique@orphee-billetterie.example", None, 700),
    ("page-plume-tech", "Page & Plume – équipe technique", "private", true, "dev@pageetplume.example", Some("books"), 200),
];

const SUPPORT_EMAIL: &str = "support@demo.venue-access.test";

/// A revocation: (revoked by (email), channel, days ago).
type Revocation = Option<(&'static str, &'static str, i32)>;

/// Hand-written grants: (provider key, venue key, channel, granted by (email),
/// granted days ago, revocation). Series over the cinema and bookshop chains
/// are generated in [`demo_grants`].
#[rustfmt::skip]
const GRANTS: &[(&str, &str, &str, &str, i32, Revocation)] = &[
    ("orphee", "theatre-main", "backoffice", SUPPORT_EMAIL, 300,
        Some((SUPPORT_EMAIL, "backoffice", 170))),
    ("ticketis", "theatre-main", "pro_interface", "theatre@demo.venue-access.test", 160, None),
    ("festik", "theatre-main", "backoffice", SUPPORT_EMAIL, 120, None),
    ("ticketis", "theatre-studio", "pro_interface", "programmation@demo.venue-access.test", 95, None),
    ("stockaro", "books-2", "pro_interface", "librairie@demo.venue-access.test", 150,
        Some(("librairie@demo.venue-access.test", "pro_interface", 60))),
    ("stockaro", "books-15", "pro_interface", "librairie@demo.venue-access.test", 45, None),
    ("visitoria", "museum-main", "pro_interface", "musee@demo.venue-access.test", 110, None),
    ("visitoria", "museum-reserves", "backoffice", SUPPORT_EMAIL, 30, None),
    ("festik", "city-hall", "backoffice", SUPPORT_EMAIL, 75, None),
];

/// Cinemas granted to CinéSoft through the pro interface (key, granted by).
const CINESOFT_VENUES: &[(&str, &str)] = &[
    ("cine-terreaux", "cinema@demo.venue-access.test"),
    ("cine-bellecour", "cinema@demo.venue-access.test"),
    ("cine-villeurbanne", "cinema@demo.venue-access.test"),
    ("cine-grenoble", "cinema@demo.venue-access.test"),
    ("cine-saint-etienne", "cinema@demo.venue-access.test"),
    ("cine-annecy", "programmation@demo.venue-access.test"),
    ("cine-chambery", "cinema@demo.venue-access.test"),
];
/// Bookshops granted to Librairie Connect by the chain (pro interface):
/// (number, step) — `books-0`, `books-11`, `books-22`… spread over the country.
const LIBRAIRIE_CONNECT_SHOPS: (usize, usize) = (10, 11);
/// Bookshops granted to the chain's private provider by support (back-office):
/// `books-0`, `books-9`, `books-18`…
const PRIVATE_PROVIDER_SHOPS: (usize, usize) = (12, 9);

/// (key, venue key, name, category, created days ago)
#[rustfmt::skip]
const OFFERS: &[(&str, &str, &str, &str, i32)] = &[
    ("misanthrope", "theatre-main", "Le Misanthrope — Molière", "SPECTACLE_REPRESENTATION", 50),
    ("quatuor", "theatre-main", "Concert du Quatuor Aurore : Beethoven et Ravel", "CONCERT", 45),
    ("cyrano", "theatre-studio", "Cyrano de Bergerac — Edmond Rostand", "SPECTACLE_REPRESENTATION", 35),
    ("monte-cristo", "cine-terreaux", "Séance : Le Comte de Monte-Cristo (VF)", "SEANCE_CINE", 30),
    ("enfants-paradis", "cine-bellecour", "Séance : Les Enfants du paradis (version restaurée)", "SEANCE_CINE", 25),
    ("etranger", "books-0", "L'Étranger — Albert Camus (Folio)", "LIVRE_PAPIER", 60),
    ("miserables", "books-0", "Les Misérables, tome 1 — Victor Hugo (Le Livre de Poche)", "LIVRE_PAPIER", 55),
    ("horde", "books-11", "La Horde du Contrevent — Alain Damasio (Folio SF)", "LIVRE_PAPIER", 45),
    ("petit-prince", "books-15", "Le Petit Prince — Antoine de Saint-Exupéry", "LIVRE_PAPIER", 30),
    ("visite-automates", "museum-main", "Visite guidée : les automates du XVIIIe siècle", "VISITE", 40),
    ("fest-noz", "city-hall", "Fest-noz de printemps", "CONCERT", 20),
];

/// When a booking's events happened, in days ago: created, used, cancelled, reimbursed.
type Timeline = (i32, Option<i32>, Option<i32>, Option<i32>);

/// (token, offer key, status, unit price in cents, quantity, beneficiary first
/// name, last name, timeline)
#[rustfmt::skip]
type BookingRow = (&'static str, &'static str, &'static str, i32, i32, &'static str, &'static str, Timeline);

#[rustfmt::skip]
const BOOKINGS: &[BookingRow] = &[
    ("DEMO01", "misanthrope", "confirmed", 2000, 2, "Léa", "Martin", (5, None, None, None)),
    ("DEMO02", "misanthrope", "used", 2000, 1, "Hugo", "Bernard", (20, Some(12), None, None)),
    ("DEMO03", "misanthrope", "cancelled", 2000, 1, "Chloé", "Petit", (18, None, Some(16), None)),
    ("DEMO04", "quatuor", "reimbursed", 1500, 1, "Lucas", "Robert", (35, Some(28), None, Some(10))),
    ("DEMO05", "cyrano", "confirmed", 1800, 1, "Manon", "Richard", (3, None, None, None)),
    ("DEMO06", "monte-cristo", "confirmed", 750, 2, "Nathan", "Durand", (2, None, None, None)),
    ("DEMO07", "monte-cristo", "used", 750, 1, "Inès", "Dubois", (14, Some(13), None, None)),
    ("DEMO08", "enfants-paradis", "cancelled", 750, 1, "Théo", "Moreau", (9, None, Some(8), None)),
    ("DEMO09", "etranger", "confirmed", 850, 1, "Camille", "Laurent", (4, None, None, None)),
    ("DEMO10", "miserables", "reimbursed", 990, 1, "Jules", "Simon", (40, Some(37), None, Some(15))),
    ("DEMO11", "horde", "used", 1190, 1, "Sarah", "Michel", (22, Some(21), None, None)),
    ("DEMO12", "visite-automates", "confirmed", 1200, 2, "Louis", "Lefebvre", (6, None, None, None)),
    ("DEMO13", "visite-automates", "reimbursed", 1200, 1, "Zoé", "Leroy", (33, Some(30), None, Some(9))),
    ("DEMO14", "fest-noz", "confirmed", 800, 2, "Maël", "Le Gall", (1, None, None, None)),
    ("DEMO15", "petit-prince", "cancelled", 790, 1, "Jade", "Fournier", (12, None, Some(11), None)),
];

/// Pending provider account requests: (company, SIREN, contact, kind,
/// offerer SIREN, description, requester IP, created days ago).
#[rustfmt::skip]
type RequestRow = (
    &'static str, &'static str, &'static str, &'static str, Option<&'static str>, &'static str, &'static str, i32,
);

#[rustfmt::skip]
const ACCOUNT_REQUESTS: &[RequestRow] = &[
    ("Billetera", "918453028", "contact@billetera.example", "public", None,
        "Éditeur d'une solution de billetterie en ligne pour salles de concert et festivals \
         (environ 120 lieux clients en France). Nous souhaitons synchroniser les offres et \
         valider les contremarques pass Culture depuis nos caisses.",
        "203.0.113.42", 2),
    ("Cinémas Lumière", "449172832", "dsi@cinemas-lumiere.example", "private", Some("449172832"),
        "Notre équipe informatique interne développe le logiciel de caisse de nos sept cinémas \
         et souhaite se connecter directement à l'API pour valider les réservations.",
        "198.51.100.17", 5),
];

// ---------------------------------------------------------------------------
// Derived data (shared by the seeding code and the tests)
// ---------------------------------------------------------------------------

#[derive(Debug)]
struct Venue {
    key: String,
    offerer: &'static str,
    name: String,
    public_name: Option<String>,
    /// NIC body of the SIRET; `None`: no SIRET (see [`NO_SIRET_COMMENT`]).
    nic: Option<u32>,
    address: String,
    postal_code: &'static str,
    city: &'static str,
    activity_domain: &'static str,
    accessibility: [Option<bool>; 4],
    days_ago: i32,
}

/// The hand-written venues followed by the bookshop chain's shops, keyed
/// `books-0`, `books-1`… (shop `i` has NIC body `i + 1`).
fn demo_venues() -> Vec<Venue> {
    let mut venues: Vec<Venue> = VENUES
        .iter()
        .map(|v| Venue {
            key: v.0.to_owned(),
            offerer: v.1,
            name: v.2.to_owned(),
            public_name: v.3.map(str::to_owned),
            nic: v.4,
            address: v.5.to_owned(),
            postal_code: v.6,
            city: v.7,
            activity_domain: v.8,
            accessibility: v.9,
            days_ago: v.10,
        })
        .collect();
    let shops = BOOKSHOP_CITIES
        .iter()
        .flat_map(|&(city, postal_code, count, local_streets)| {
            (0..count).map(move |n| (city, postal_code, local_streets.get(n).copied()))
        });
    for (i, (city, postal_code, local_street)) in shops.enumerate() {
        let street = local_street.unwrap_or(STREETS[(i * 7 + 3) % STREETS.len()]);
        let flag = |period: usize, pattern: &[Option<bool>]| pattern[(i / period) % pattern.len()];
        venues.push(Venue {
            key: format!("books-{i}"),
            offerer: "books",
            name: format!("Page & Plume {city} – {street}"),
            public_name: (i % 4 != 3).then(|| format!("Librairie Page & Plume {city}")),
            nic: Some(u32::try_from(i + 1).expect("few shops")),
            address: format!("{} {street}", 1 + (i * 37) % 120),
            postal_code,
            city,
            activity_domain: "BOOKSTORE",
            accessibility: [
                flag(1, &[Y, N, U]),
                flag(2, &[Y, U]),
                flag(1, &[Y, Y, N, U]),
                flag(3, &[N, U, Y]),
            ],
            days_ago: 400 - 2 * i32::try_from(i).expect("few shops"),
        });
    }
    venues
}

#[derive(Debug)]
struct Grant {
    provider: &'static str,
    venue: String,
    channel: &'static str,
    granted_by: &'static str,
    days_ago: i32,
    revocation: Revocation,
}

fn demo_grants() -> Vec<Grant> {
    let mut grants: Vec<Grant> = GRANTS
        .iter()
        .map(
            |&(provider, venue, channel, granted_by, days_ago, revocation)| Grant {
                provider,
                venue: venue.to_owned(),
                channel,
                granted_by,
                days_ago,
                revocation,
            },
        )
        .collect();
    for (i, &(venue, granted_by)) in (0i32..).zip(CINESOFT_VENUES) {
        grants.push(Grant {
            provider: "cinesoft",
            venue: venue.to_owned(),
            channel: "pro_interface",
            granted_by,
            days_ago: 140 - 6 * i,
            revocation: None,
        });
    }
    let (count, step) = LIBRAIRIE_CONNECT_SHOPS;
    for (i, shop) in (0i32..).zip((0..count).map(|n| n * step)) {
        grants.push(Grant {
            provider: "librairie-connect",
            venue: format!("books-{shop}"),
            channel: "pro_interface",
            granted_by: "librairie@demo.venue-access.test",
            days_ago: 130 - 3 * i,
            revocation: None,
        });
    }
    let (count, step) = PRIVATE_PROVIDER_SHOPS;
    for (i, shop) in (0i32..).zip((0..count).map(|n| n * step)) {
        grants.push(Grant {
            provider: "page-plume-tech",
            venue: format!("books-{shop}"),
            channel: "backoffice",
            granted_by: SUPPORT_EMAIL,
            days_ago: 90 - i,
            revocation: None,
        });
    }
    grants
}

/// Minutes before `now()` for an event `days` ago, with a deterministic
/// time-of-day jitter under ten hours (`salt` varies it between rows).
fn minutes_ago(days: i32, salt: usize) -> i32 {
    let jitter = i32::try_from((salt * 211 + 37) % 590).expect("under 590");
    days * 24 * 60 + jitter
}

fn role_of(email: &str) -> anyhow::Result<&'static str> {
    DEMO_ACCOUNTS
        .iter()
        .find(|account| account.email == email)
        .map(|account| account.role)
        .with_context(|| format!("{email} is not listed in DEMO_ACCOUNTS"))
}

fn id_of(ids: &HashMap<String, i64>, what: &str, key: &str) -> anyhow::Result<i64> {
    ids.get(key)
        .copied()
        .ok_or_else(|| anyhow!("demo data: unknown {what} {key:?}"))
}

fn parse_siren(siren: &str) -> anyhow::Result<Siren> {
    Siren::parse(siren).map_err(|_| anyhow!("demo data: invalid SIREN {siren}"))
}

// ---------------------------------------------------------------------------
// Seeding
// ---------------------------------------------------------------------------

/// Seed the demo data if the database holds no offerer and no user yet; all
/// in ONE transaction (all or nothing).
pub async fn seed_demo_if_empty(pool: &PgPool) -> anyhow::Result<SeedOutcome> {
    const IS_POPULATED: &str =
        "SELECT EXISTS (SELECT 1 FROM offerer) OR EXISTS (SELECT 1 FROM user_account)";

    // Cheap check first, so that the (deliberately slow) hashing only runs on
    // an empty database.
    let populated: bool = sqlx::query_scalar(IS_POPULATED).fetch_one(pool).await?;
    if populated {
        return Ok(SeedOutcome::AlreadyPopulated);
    }
    let password_hash = tokio::task::spawn_blocking(|| hash_password(DEMO_PASSWORD))
        .await
        .context("hashing the demo password")??;

    let mut tx = pool.begin().await?;
    // Two instances starting at once: the second waits here, then sees the data.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('venue-access.seed-demo'))")
        .execute(&mut *tx)
        .await?;
    let populated: bool = sqlx::query_scalar(IS_POPULATED).fetch_one(&mut *tx).await?;
    if populated {
        return Ok(SeedOutcome::AlreadyPopulated);
    }
    insert_demo_data(&mut tx, &password_hash)
        .await
        .context("seeding the demo data")?;
    tx.commit().await?;
    Ok(SeedOutcome::Seeded)
}

async fn insert_demo_data(conn: &mut PgConnection, password_hash: &str) -> anyhow::Result<()> {
    let offerers = insert_offerers(conn).await?;
    let users = insert_users(conn, password_hash).await?;
    insert_memberships(conn, &offerers, &users).await?;
    let venues = insert_venues(conn, &offerers).await?;
    let providers = insert_providers(conn, &offerers).await?;
    insert_grants(conn, &providers, &venues, &users).await?;
    let offers = insert_offers(conn, &venues).await?;
    insert_bookings(conn, &offers).await?;
    insert_account_requests(conn).await?;
    Ok(())
}

/// Maps the natural key returned by an `INSERT … RETURNING id, <key>` to the id.
fn key_to_id(
    rows: Vec<(i64, String)>,
    expected: usize,
    table: &str,
) -> anyhow::Result<HashMap<String, i64>> {
    ensure!(
        rows.len() == expected,
        "{table}: inserted {} rows, expected {expected}",
        rows.len()
    );
    Ok(rows.into_iter().map(|(id, key)| (key, id)).collect())
}

/// Returns offerer key → id.
async fn insert_offerers(conn: &mut PgConnection) -> anyhow::Result<HashMap<String, i64>> {
    let names: Vec<&str> = OFFERERS.iter().map(|o| o.1).collect();
    let sirens: Vec<&str> = OFFERERS.iter().map(|o| o.2).collect();
    let statuses: Vec<&str> = OFFERERS.iter().map(|o| o.3).collect();
    let ages: Vec<i32> = OFFERERS
        .iter()
        .enumerate()
        .map(|(i, o)| minutes_ago(o.4, i))
        .collect();
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO offerer (name, siren, status, created_at, updated_at)
         SELECT name, siren, status::offerer_status,
                now() - make_interval(mins => age), now() - make_interval(mins => age)
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int[]) AS t(name, siren, status, age)
         RETURNING id, siren",
    )
    .bind(names)
    .bind(sirens)
    .bind(statuses)
    .bind(ages)
    .fetch_all(&mut *conn)
    .await?;
    let by_siren = key_to_id(rows, OFFERERS.len(), "offerer")?;
    OFFERERS
        .iter()
        .map(|o| Ok((o.0.to_owned(), id_of(&by_siren, "SIREN", o.2)?)))
        .collect()
}

/// Returns email → id.
async fn insert_users(
    conn: &mut PgConnection,
    password_hash: &str,
) -> anyhow::Result<HashMap<String, i64>> {
    let emails: Vec<&str> = USER_PROFILES.iter().map(|u| u.0).collect();
    let names: Vec<&str> = USER_PROFILES.iter().map(|u| u.1).collect();
    let roles: Vec<&str> = USER_PROFILES
        .iter()
        .map(|u| role_of(u.0))
        .collect::<anyhow::Result<_>>()?;
    let ages: Vec<i32> = USER_PROFILES
        .iter()
        .enumerate()
        .map(|(i, u)| minutes_ago(u.3, i))
        .collect();
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO user_account (email, password_hash, display_name, role, created_at, updated_at)
         SELECT email, $1, display_name, role::user_role,
                now() - make_interval(mins => age), now() - make_interval(mins => age)
         FROM UNNEST($2::text[], $3::text[], $4::text[], $5::int[]) AS t(email, display_name, role, age)
         RETURNING id, email",
    )
    .bind(password_hash)
    .bind(emails)
    .bind(names)
    .bind(roles)
    .bind(ages)
    .fetch_all(&mut *conn)
    .await?;
    key_to_id(rows, USER_PROFILES.len(), "user_account")
}

/// The first member listed for an offerer founded it; later members were invited by them.
async fn insert_memberships(
    conn: &mut PgConnection,
    offerers: &HashMap<String, i64>,
    users: &HashMap<String, i64>,
) -> anyhow::Result<()> {
    let mut founders: HashMap<&str, i64> = HashMap::new();
    let (mut user_ids, mut offerer_ids, mut inviters, mut ages) = (vec![], vec![], vec![], vec![]);
    for (i, &(email, _, member_of, days)) in USER_PROFILES.iter().enumerate() {
        let user_id = id_of(users, "user", email)?;
        for &offerer in member_of {
            user_ids.push(user_id);
            offerer_ids.push(id_of(offerers, "offerer", offerer)?);
            inviters.push(founders.get(offerer).copied());
            founders.entry(offerer).or_insert(user_id);
            ages.push(minutes_ago(days, i) - 5);
        }
    }
    let inserted = sqlx::query(
        "INSERT INTO membership (user_id, offerer_id, invited_by_user_id, created_at)
         SELECT user_id, offerer_id, invited_by, now() - make_interval(mins => age)
         FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::int[]) AS t(user_id, offerer_id, invited_by, age)",
    )
    .bind(&user_ids)
    .bind(offerer_ids)
    .bind(inviters)
    .bind(ages)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    ensure!(
        inserted as usize == user_ids.len(),
        "membership: inserted {inserted} rows"
    );
    Ok(())
}

/// Returns venue key → id (venue names are unique in the demo data).
async fn insert_venues(
    conn: &mut PgConnection,
    offerers: &HashMap<String, i64>,
) -> anyhow::Result<HashMap<String, i64>> {
    let venues = demo_venues();
    let sirens: HashMap<&str, Siren> = OFFERERS
        .iter()
        .map(|o| Ok((o.0, parse_siren(o.2)?)))
        .collect::<anyhow::Result<_>>()?;
    let mut offerer_ids = Vec::with_capacity(venues.len());
    let mut sirets = Vec::with_capacity(venues.len());
    for venue in &venues {
        offerer_ids.push(id_of(offerers, "offerer", venue.offerer)?);
        let siren = sirens
            .get(venue.offerer)
            .context("venue of an unknown offerer")?;
        sirets.push(venue.nic.map(|nic| {
            siret_from_siren_and_nic_prefix(siren, nic)
                .as_str()
                .to_owned()
        }));
    }
    let comments: Vec<Option<&str>> = venues
        .iter()
        .map(|v| v.nic.is_none().then_some(NO_SIRET_COMMENT))
        .collect();
    let flag = |n: usize| {
        venues
            .iter()
            .map(|v| v.accessibility[n])
            .collect::<Vec<_>>()
    };
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO venue (offerer_id, name, public_name, siret, siret_comment, address, postal_code, city,
                            activity_domain, audio_disability_compliant, mental_disability_compliant,
                            motor_disability_compliant, visual_disability_compliant, created_at, updated_at)
         SELECT offerer_id, name, public_name, siret, siret_comment, address, postal_code, city,
                activity_domain, audio, mental, motor, visual,
                now() - make_interval(mins => age), now() - make_interval(mins => age)
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::text[], $10::bool[], $11::bool[], $12::bool[], $13::bool[], $14::int[])
              AS t(offerer_id, name, public_name, siret, siret_comment, address, postal_code, city,
                   activity_domain, audio, mental, motor, visual, age)
         RETURNING id, name",
    )
    .bind(offerer_ids)
    .bind(venues.iter().map(|v| v.name.as_str()).collect::<Vec<_>>())
    .bind(venues.iter().map(|v| v.public_name.as_deref()).collect::<Vec<_>>())
    .bind(sirets)
    .bind(comments)
    .bind(venues.iter().map(|v| v.address.as_str()).collect::<Vec<_>>())
    .bind(venues.iter().map(|v| v.postal_code).collect::<Vec<_>>())
    .bind(venues.iter().map(|v| v.city).collect::<Vec<_>>())
    .bind(venues.iter().map(|v| v.activity_domain).collect::<Vec<_>>())
    .bind(flag(0))
    .bind(flag(1))
    .bind(flag(2))
    .bind(flag(3))
    .bind(venues.iter().enumerate().map(|(i, v)| minutes_ago(v.days_ago, i)).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    let by_name = key_to_id(rows, venues.len(), "venue")?;
    venues
        .iter()
        .map(|v| Ok((v.key.clone(), id_of(&by_name, "venue name", &v.name)?)))
        .collect()
}

/// Returns provider key → id.
async fn insert_providers(
    conn: &mut PgConnection,
    offerers: &HashMap<String, i64>,
) -> anyhow::Result<HashMap<String, i64>> {
    let owners: Vec<Option<i64>> = PROVIDERS
        .iter()
        .map(|p| {
            p.5.map(|owner| id_of(offerers, "offerer", owner))
                .transpose()
        })
        .collect::<anyhow::Result<_>>()?;
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO provider (name, kind, is_active, contact_email, offerer_id, created_at, updated_at)
         SELECT name, kind::provider_kind, is_active, contact_email, offerer_id,
                now() - make_interval(mins => age), now() - make_interval(mins => age)
         FROM UNNEST($1::text[], $2::text[], $3::bool[], $4::text[], $5::bigint[], $6::int[])
              AS t(name, kind, is_active, contact_email, offerer_id, age)
         RETURNING id, name",
    )
    .bind(PROVIDERS.iter().map(|p| p.1).collect::<Vec<_>>())
    .bind(PROVIDERS.iter().map(|p| p.2).collect::<Vec<_>>())
    .bind(PROVIDERS.iter().map(|p| p.3).collect::<Vec<_>>())
    .bind(PROVIDERS.iter().map(|p| p.4).collect::<Vec<_>>())
    .bind(owners)
    .bind(PROVIDERS.iter().enumerate().map(|(i, p)| minutes_ago(p.6, i)).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    let by_name = key_to_id(rows, PROVIDERS.len(), "provider")?;
    PROVIDERS
        .iter()
        .map(|p| Ok((p.0.to_owned(), id_of(&by_name, "provider name", p.1)?)))
        .collect()
}

/// Inserts the grants and, in the same statement, one audit event per grant
/// and per revocation (dated like them, in chronological id order).
async fn insert_grants(
    conn: &mut PgConnection,
    providers: &HashMap<String, i64>,
    venues: &HashMap<String, i64>,
    users: &HashMap<String, i64>,
) -> anyhow::Result<()> {
    let grants = demo_grants();
    let (mut provider_ids, mut venue_ids, mut granted_by, mut revoked_by) =
        (vec![], vec![], vec![], vec![]);
    let (mut granted_ages, mut revoked_ages, mut revoked_channels) = (vec![], vec![], vec![]);
    for (i, grant) in grants.iter().enumerate() {
        provider_ids.push(id_of(providers, "provider", grant.provider)?);
        venue_ids.push(id_of(venues, "venue", &grant.venue)?);
        granted_by.push(id_of(users, "user", grant.granted_by)?);
        granted_ages.push(minutes_ago(grant.days_ago, i));
        let revocation = grant.revocation;
        revoked_by.push(
            revocation
                .map(|(by, _, _)| id_of(users, "user", by))
                .transpose()?,
        );
        revoked_channels.push(revocation.map(|(_, channel, _)| channel));
        revoked_ages.push(revocation.map(|(_, _, days)| minutes_ago(days, i + 100)));
    }
    let revocations = grants.iter().filter(|g| g.revocation.is_some()).count();
    let audited = sqlx::query(
        "WITH input AS (
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::int[],
                                  $6::bigint[], $7::text[], $8::int[]) WITH ORDINALITY
                 AS t(provider_id, venue_id, channel, granted_by, granted_age,
                      revoked_by, revoked_channel, revoked_age, ord)
         ),
         inserted AS (
             INSERT INTO venue_access_grant (provider_id, venue_id, channel, granted_by_user_id, granted_at,
                                             revoked_at, revoked_by_user_id, revoked_channel)
             SELECT provider_id, venue_id, channel::grant_channel, granted_by,
                    now() - make_interval(mins => granted_age),
                    now() - make_interval(mins => revoked_age), revoked_by, revoked_channel::grant_channel
             FROM input ORDER BY ord
             RETURNING *
         ),
         events AS (
             SELECT id, granted_by_user_id AS user_id, granted_at AS occurred_at,
                    'venue_access.grant' AS action, channel, provider_id, venue_id
             FROM inserted
             UNION ALL
             SELECT id, revoked_by_user_id, revoked_at, 'venue_access.revoke', revoked_channel, provider_id, venue_id
             FROM inserted WHERE revoked_at IS NOT NULL
         )
         INSERT INTO audit_event (occurred_at, actor_kind, actor_user_id, actor_label, action, target_kind,
                                  target_id, offerer_id, venue_id, provider_id, details)
         SELECT e.occurred_at, 'user'::audit_actor_kind, u.id, u.email, e.action, 'venue_access_grant',
                e.id::text, v.offerer_id, e.venue_id, e.provider_id,
                jsonb_build_object('provider_name', p.name, 'channel', e.channel::text)
         FROM events e
         JOIN user_account u ON u.id = e.user_id
         JOIN venue v ON v.id = e.venue_id
         JOIN provider p ON p.id = e.provider_id
         ORDER BY e.occurred_at, e.id",
    )
    .bind(provider_ids)
    .bind(venue_ids)
    .bind(grants.iter().map(|g| g.channel).collect::<Vec<_>>())
    .bind(granted_by)
    .bind(granted_ages)
    .bind(revoked_by)
    .bind(revoked_channels)
    .bind(revoked_ages)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let expected = grants.len() + revocations;
    ensure!(
        audited as usize == expected,
        "audit_event: inserted {audited} rows, expected {expected}"
    );
    Ok(())
}

/// Returns offer key → id (offer names are unique in the demo data).
async fn insert_offers(
    conn: &mut PgConnection,
    venues: &HashMap<String, i64>,
) -> anyhow::Result<HashMap<String, i64>> {
    let venue_ids: Vec<i64> = OFFERS
        .iter()
        .map(|o| id_of(venues, "venue", o.1))
        .collect::<anyhow::Result<_>>()?;
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO offer (venue_id, name, category_id, created_at, updated_at)
         SELECT venue_id, name, category_id, now() - make_interval(mins => age), now() - make_interval(mins => age)
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::int[]) AS t(venue_id, name, category_id, age)
         RETURNING id, name",
    )
    .bind(venue_ids)
    .bind(OFFERS.iter().map(|o| o.2).collect::<Vec<_>>())
    .bind(OFFERS.iter().map(|o| o.3).collect::<Vec<_>>())
    .bind(OFFERS.iter().enumerate().map(|(i, o)| minutes_ago(o.4, i)).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    let by_name = key_to_id(rows, OFFERS.len(), "offer")?;
    OFFERS
        .iter()
        .map(|o| Ok((o.0.to_owned(), id_of(&by_name, "offer name", o.2)?)))
        .collect()
}

async fn insert_bookings(
    conn: &mut PgConnection,
    offers: &HashMap<String, i64>,
) -> anyhow::Result<()> {
    let offer_ids: Vec<i64> = BOOKINGS
        .iter()
        .map(|b| id_of(offers, "offer", b.1))
        .collect::<anyhow::Result<_>>()?;
    let age = |pick: fn(&Timeline) -> Option<i32>| -> Vec<Option<i32>> {
        BOOKINGS
            .iter()
            .enumerate()
            .map(|(i, b)| pick(&b.7).map(|days| minutes_ago(days, i)))
            .collect()
    };
    let inserted = sqlx::query(
        "INSERT INTO booking (token, offer_id, status, price_cents, quantity, beneficiary_first_name,
                              beneficiary_last_name, created_at, confirmed_at, used_at, cancelled_at,
                              reimbursed_at, updated_at)
         SELECT token, offer_id, status::booking_status, price_cents, quantity, first_name, last_name,
                created_at, created_at, used_at, cancelled_at, reimbursed_at,
                GREATEST(created_at, used_at, cancelled_at, reimbursed_at)
         FROM (
             SELECT token, offer_id, status, price_cents, quantity, first_name, last_name,
                    now() - make_interval(mins => created_age) AS created_at,
                    now() - make_interval(mins => used_age) AS used_at,
                    now() - make_interval(mins => cancelled_age) AS cancelled_at,
                    now() - make_interval(mins => reimbursed_age) AS reimbursed_at
             FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::int[], $5::int[], $6::text[], $7::text[],
                         $8::int[], $9::int[], $10::int[], $11::int[])
                  AS t(token, offer_id, status, price_cents, quantity, first_name, last_name,
                       created_age, used_age, cancelled_age, reimbursed_age)
         ) AS b",
    )
    .bind(BOOKINGS.iter().map(|b| b.0).collect::<Vec<_>>())
    .bind(offer_ids)
    .bind(BOOKINGS.iter().map(|b| b.2).collect::<Vec<_>>())
    .bind(BOOKINGS.iter().map(|b| b.3).collect::<Vec<_>>())
    .bind(BOOKINGS.iter().map(|b| b.4).collect::<Vec<_>>())
    .bind(BOOKINGS.iter().map(|b| b.5).collect::<Vec<_>>())
    .bind(BOOKINGS.iter().map(|b| b.6).collect::<Vec<_>>())
    .bind(age(|t| Some(t.0)))
    .bind(age(|t| t.1))
    .bind(age(|t| t.2))
    .bind(age(|t| t.3))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    ensure!(
        inserted as usize == BOOKINGS.len(),
        "booking: inserted {inserted} rows"
    );
    Ok(())
}

async fn insert_account_requests(conn: &mut PgConnection) -> anyhow::Result<()> {
    let inserted = sqlx::query(
        "INSERT INTO provider_account_request (company_name, siren, contact_email, kind, offerer_siren,
                                               description, requester_ip, created_at)
         SELECT company_name, siren, contact_email, kind::provider_kind, offerer_siren, description,
                requester_ip, now() - make_interval(mins => age)
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[])
              AS t(company_name, siren, contact_email, kind, offerer_siren, description, requester_ip, age)",
    )
    .bind(ACCOUNT_REQUESTS.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(ACCOUNT_REQUESTS.iter().map(|r| r.1).collect::<Vec<_>>())
    .bind(ACCOUNT_REQUESTS.iter().map(|r| r.2).collect::<Vec<_>>())
    .bind(ACCOUNT_REQUESTS.iter().map(|r| r.3).collect::<Vec<_>>())
    .bind(ACCOUNT_REQUESTS.iter().map(|r| r.4).collect::<Vec<_>>())
    .bind(ACCOUNT_REQUESTS.iter().map(|r| r.5).collect::<Vec<_>>())
    .bind(ACCOUNT_REQUESTS.iter().map(|r| r.6).collect::<Vec<_>>())
    .bind(ACCOUNT_REQUESTS.iter().enumerate().map(|(i, r)| minutes_ago(r.7, i)).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    ensure!(
        inserted as usize == ACCOUNT_REQUESTS.len(),
        "provider_account_request: inserted {inserted} rows"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;
    use crate::domain::Siret;

    /// The codes allowed by the `venue_activity_domain_known` check.
    #[rustfmt::skip]
    const ACTIVITY_DOMAINS: &[&str] = &[
        "ARTISTIC_COURSE", "BOOKSTORE", "CONCERT_HALL", "CULTURAL_CENTRE", "FESTIVAL", "GAMES",
        "LIBRARY", "MOVIE", "MUSEUM", "MUSICAL_INSTRUMENT_STORE", "PATRIMONY_TOURISM",
        "PERFORMING_ARTS", "RECORD_STORE", "SCIENTIFIC_CULTURE", "VISUAL_ARTS", "OTHER",
    ];

    fn offerer(key: &str) -> (&'static str, &'static str, &'static str, &'static str, i32) {
        *OFFERERS
            .iter()
            .find(|o| o.0 == key)
            .unwrap_or_else(|| panic!("unknown offerer {key}"))
    }

    fn venues_by_key() -> HashMap<String, Venue> {
        demo_venues()
            .into_iter()
            .map(|v| (v.key.clone(), v))
            .collect()
    }

    fn profile(email: &str) -> (&'static str, &'static str, &'static [&'static str], i32) {
        *USER_PROFILES
            .iter()
            .find(|u| u.0 == email)
            .unwrap_or_else(|| panic!("unknown user {email}"))
    }

    fn provider(key: &str) -> ProviderRow {
        *PROVIDERS
            .iter()
            .find(|p| p.0 == key)
            .unwrap_or_else(|| panic!("unknown provider {key}"))
    }

    fn is_email(value: &str) -> bool {
        value == value.trim().to_lowercase()
            && value
                .split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
    }

    #[test]
    fn every_siren_is_valid_and_unique() {
        let request_sirens = ACCOUNT_REQUESTS
            .iter()
            .flat_map(|r| [Some(r.1), r.4])
            .flatten();
        for siren in OFFERERS.iter().map(|o| o.2).chain(request_sirens) {
            assert!(Siren::parse(siren).is_ok(), "invalid SIREN {siren}");
        }
        let unique: HashSet<_> = OFFERERS.iter().map(|o| o.2).collect();
        assert_eq!(unique.len(), OFFERERS.len());
        let keys: HashSet<_> = OFFERERS.iter().map(|o| o.0).collect();
        assert_eq!(keys.len(), OFFERERS.len());
        assert!(
            OFFERERS
                .iter()
                .all(|o| ["new", "validated", "rejected"].contains(&o.3))
        );
        assert_eq!(OFFERERS.iter().filter(|o| o.3 == "new").count(), 1);
    }

    #[test]
    fn every_siret_is_valid_unique_and_starts_with_its_offerers_siren() {
        let mut seen = HashSet::new();
        for venue in demo_venues() {
            let Some(nic) = venue.nic else { continue };
            assert!(nic <= 9999, "{}: NIC body {nic} out of range", venue.key);
            let siren_text = offerer(venue.offerer).2;
            let Ok(siren) = Siren::parse(siren_text) else {
                panic!("invalid SIREN {siren_text}")
            };
            let siret = siret_from_siren_and_nic_prefix(&siren, nic);
            let siret = siret.as_str();
            assert!(
                Siret::parse(siret).is_ok(),
                "{}: invalid SIRET {siret}",
                venue.key
            );
            assert!(
                siret.starts_with(siren.as_str()),
                "{siret} is not under {siren_text}"
            );
            assert!(seen.insert(siret.to_owned()), "duplicate SIRET {siret}");
        }
    }

    #[test]
    fn exactly_one_venue_has_no_siret_and_it_says_why() {
        let venues = demo_venues();
        let without: Vec<_> = venues.iter().filter(|v| v.nic.is_none()).collect();
        assert_eq!(without.len(), 1);
        assert!(!NO_SIRET_COMMENT.trim().is_empty());
        assert_ne!(without[0].activity_domain, "BOOKSTORE");
    }

    #[test]
    fn the_bookshop_chain_has_over_a_hundred_venues_in_many_cities() {
        let venues = demo_venues();
        let shops: Vec<_> = venues.iter().filter(|v| v.offerer == "books").collect();
        assert!(shops.len() >= 100, "only {} shops", shops.len());
        let cities: HashSet<_> = shops.iter().map(|v| v.city).collect();
        assert!(cities.len() >= 40, "only {} cities", cities.len());
        let mut per_offerer: HashMap<&str, usize> = HashMap::new();
        for venue in &venues {
            *per_offerer.entry(venue.offerer).or_default() += 1;
        }
        assert!((1..=2).contains(&per_offerer["theatre"]));
        assert!((5..=10).contains(&per_offerer["cinema"]));
        assert!(
            OFFERERS.iter().all(|o| per_offerer.contains_key(o.0)),
            "an offerer without venue"
        );
    }

    #[test]
    fn venues_are_well_formed() {
        let venues = demo_venues();
        let keys: HashSet<_> = venues.iter().map(|v| v.key.as_str()).collect();
        let names: HashSet<_> = venues.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(keys.len(), venues.len(), "venue keys must be unique");
        assert_eq!(
            names.len(),
            venues.len(),
            "venue names must be unique (used to map ids back)"
        );
        for venue in &venues {
            let length = |s: &str| s.trim().chars().count();
            assert!((1..=140).contains(&length(&venue.name)), "{}", venue.name);
            assert!(
                venue
                    .public_name
                    .as_deref()
                    .is_none_or(|p| (1..=140).contains(&length(p)))
            );
            assert!(
                (1..=200).contains(&length(&venue.address)),
                "{}",
                venue.address
            );
            assert!((1..=100).contains(&length(venue.city)));
            assert!(
                venue.postal_code.len() == 5
                    && venue.postal_code.bytes().all(|b| b.is_ascii_digit())
            );
            assert!(
                ACTIVITY_DOMAINS.contains(&venue.activity_domain),
                "{}",
                venue.activity_domain
            );
            assert!(
                venue.days_ago > 0 && venue.days_ago <= offerer(venue.offerer).4,
                "{}",
                venue.key
            );
        }
        let flags: HashSet<_> = venues.iter().flat_map(|v| v.accessibility).collect();
        assert_eq!(
            flags.len(),
            3,
            "accessibility flags mix true, false and NULL"
        );
        assert!(venues.iter().any(|v| v.public_name.is_none()));
    }

    #[test]
    fn accounts_list_one_support_agent_and_one_user_in_two_offerers() {
        assert_eq!(
            DEMO_ACCOUNTS.iter().filter(|a| a.role == "support").count(),
            1
        );
        assert!(
            DEMO_ACCOUNTS
                .iter()
                .all(|a| ["pro", "support"].contains(&a.role))
        );
        assert_eq!(USER_PROFILES.iter().filter(|u| u.2.len() == 2).count(), 1);
        assert_eq!(role_of(SUPPORT_EMAIL).unwrap(), "support");
        // The public list and the profiles describe the same people.
        let accounts: Vec<_> = DEMO_ACCOUNTS.iter().map(|a| a.email).collect();
        let profiles: Vec<_> = USER_PROFILES.iter().map(|u| u.0).collect();
        assert_eq!(accounts, profiles);
        assert_eq!(
            accounts.iter().collect::<HashSet<_>>().len(),
            accounts.len()
        );
        for &(email, display_name, member_of, _) in USER_PROFILES {
            assert!(is_email(email), "{email}");
            assert!(!display_name.trim().is_empty());
            let is_support = role_of(email).unwrap() == "support";
            assert_eq!(
                member_of.is_empty(),
                is_support,
                "{email}: support agents belong to no offerer"
            );
            for &key in member_of {
                offerer(key);
            }
        }
        for o in OFFERERS {
            assert!(
                USER_PROFILES.iter().any(|u| u.2.contains(&o.0)),
                "no pro user for {}",
                o.1
            );
        }
        assert!(DEMO_PASSWORD.len() >= 12);
    }

    #[test]
    fn providers_are_varied_and_well_formed() {
        let names: HashSet<_> = PROVIDERS.iter().map(|p| p.1.to_lowercase()).collect();
        assert_eq!(names.len(), PROVIDERS.len());
        assert!(PROVIDERS.iter().filter(|p| p.2 == "public" && p.3).count() >= 5);
        assert_eq!(
            PROVIDERS.iter().filter(|p| p.2 == "public" && !p.3).count(),
            1
        );
        let private: Vec<_> = PROVIDERS.iter().filter(|p| p.2 == "private").collect();
        assert_eq!(private.len(), 1);
        for p in PROVIDERS {
            assert!(is_email(p.4), "{}", p.4);
            assert_eq!(
                p.5.is_some(),
                p.2 == "private",
                "{}: only private providers have an owner",
                p.1
            );
            if let Some(owner) = p.5 {
                assert!(p.6 < offerer(owner).4, "{} created before its owner", p.1);
            }
        }
    }

    #[test]
    fn grants_respect_channels_membership_and_history() {
        let venues = venues_by_key();
        let grants = demo_grants();
        let mut active = HashSet::new();
        for grant in &grants {
            let venue = venues
                .get(&grant.venue)
                .unwrap_or_else(|| panic!("unknown venue {}", grant.venue));
            let provider = provider(grant.provider);
            let by_member = |email: &str| profile(email).2.contains(&venue.offerer);
            let check_actor = |email: &str, channel: &str| match channel {
                "pro_interface" => assert!(
                    by_member(email),
                    "{email} is not a member of {}",
                    venue.offerer
                ),
                "backoffice" => assert_eq!(role_of(email).unwrap(), "support"),
                other => panic!("unexpected channel {other}"),
            };
            check_actor(grant.granted_by, grant.channel);
            assert!(
                grant.days_ago < venue.days_ago,
                "{} granted before it existed",
                grant.venue
            );
            assert!(
                grant.days_ago < provider.6,
                "{} granted before it existed",
                grant.provider
            );
            assert!(
                grant.days_ago < profile(grant.granted_by).3,
                "{} acted before signing up",
                grant.granted_by
            );
            if let Some(owner) = provider.5 {
                assert_eq!(
                    venue.offerer, owner,
                    "a private provider only reaches its owner's venues"
                );
            }
            match grant.revocation {
                Some((by, channel, days)) => {
                    check_actor(by, channel);
                    assert!(days < grant.days_ago && days > 0);
                }
                None => assert!(
                    active.insert((grant.provider, grant.venue.as_str())),
                    "duplicate active grant"
                ),
            }
        }
        let count = |channel: &str| grants.iter().filter(|g| g.channel == channel).count();
        assert!(count("pro_interface") >= 3 && count("backoffice") >= 3);
        assert!(grants.iter().any(|g| g.revocation.is_some()));
        assert!(
            grants
                .iter()
                .any(|g| provider(g.provider).2 == "private" && g.channel == "backoffice")
        );
        let no_siret = demo_venues().into_iter().find(|v| v.nic.is_none()).unwrap();
        assert!(
            active.iter().any(|(_, venue)| *venue == no_siret.key),
            "the venue without SIRET has a grant"
        );
    }

    #[test]
    fn offers_are_on_venues_with_an_active_grant() {
        let venues = venues_by_key();
        let grants = demo_grants();
        let names: HashSet<_> = OFFERS.iter().map(|o| o.2).collect();
        assert_eq!(
            names.len(),
            OFFERS.len(),
            "offer names must be unique (used to map ids back)"
        );
        for &(key, venue_key, name, category, days) in OFFERS {
            let venue = &venues[venue_key];
            assert!(
                grants
                    .iter()
                    .any(|g| g.venue == venue_key && g.revocation.is_none()),
                "{key}"
            );
            assert!(
                [
                    "CONCERT",
                    "SPECTACLE_REPRESENTATION",
                    "LIVRE_PAPIER",
                    "SEANCE_CINE",
                    "VISITE"
                ]
                .contains(&category)
            );
            assert!((1..=140).contains(&name.chars().count()));
            assert!(days < venue.days_ago);
        }
    }

    #[test]
    fn bookings_respect_the_schema_checks_and_cover_every_status() {
        let tokens: HashSet<_> = BOOKINGS.iter().map(|b| b.0).collect();
        assert_eq!(tokens.len(), BOOKINGS.len());
        for &(
            token,
            offer_key,
            status,
            price,
            quantity,
            first,
            last,
            (created, used, cancelled, reimbursed),
        ) in BOOKINGS
        {
            assert!(
                token.len() == 6
                    && token
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            );
            let offer = OFFERS
                .iter()
                .find(|o| o.0 == offer_key)
                .unwrap_or_else(|| panic!("{offer_key}"));
            assert!(created < offer.4, "{token} booked before its offer existed");
            assert!(price >= 0 && (1..=2).contains(&quantity));
            assert!(!first.is_empty() && !last.is_empty());
            let (u, c, r) = (used.is_some(), cancelled.is_some(), reimbursed.is_some());
            let expected = match status {
                "confirmed" => (false, false, false),
                "used" => (true, false, false),
                "cancelled" => (false, true, false),
                "reimbursed" => (true, false, true),
                other => panic!("unknown status {other}"),
            };
            assert_eq!(
                (u, c, r),
                expected,
                "{token}: dates do not match status {status}"
            );
            assert!(
                created > 0
                    && [used, cancelled]
                        .into_iter()
                        .flatten()
                        .all(|d| d < created && d > 0)
            );
            if let (Some(used), Some(reimbursed)) = (used, reimbursed) {
                assert!(reimbursed < used && reimbursed > 0);
            }
        }
        for status in ["confirmed", "used", "cancelled", "reimbursed"] {
            assert!(
                BOOKINGS.iter().any(|b| b.2 == status),
                "no {status} booking"
            );
        }
    }

    #[test]
    fn account_requests_are_valid() {
        for r in ACCOUNT_REQUESTS {
            assert!(is_email(r.2));
            assert_eq!(r.4.is_some(), r.3 == "private");
        }
        assert!(ACCOUNT_REQUESTS.iter().any(|r| r.3 == "public"));
        assert!(ACCOUNT_REQUESTS.iter().any(|r| r.3 == "private"));
    }

    #[test]
    fn time_of_day_jitter_never_swaps_days() {
        for salt in 0..1000 {
            let jitter = minutes_ago(0, salt);
            assert!((0..10 * 60).contains(&jitter));
            assert!(
                minutes_ago(1, salt) > minutes_ago(0, salt + 1),
                "a day earlier is always earlier"
            );
        }
    }
}
