//! The Luhn (mod 10) checksum used by SIREN and SIRET numbers.

/// Computes the Luhn weighted sum of the ASCII digit string `digits`.
///
/// Digits are walked from the right; every other digit is doubled (minus 9
/// when the result exceeds 9). `double_rightmost` tells whether the
/// rightmost digit is doubled: it is not when `digits` already ends with a
/// check digit, and it is when `digits` is a body awaiting its check digit.
fn weighted_sum(digits: &str, double_rightmost: bool) -> u32 {
    let doubled_parity = usize::from(!double_rightmost);
    digits
        .bytes()
        .rev()
        .map(|byte| u32::from(byte.wrapping_sub(b'0')))
        .enumerate()
        .map(|(position, digit)| {
            if position % 2 == doubled_parity {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum()
}

/// Returns `true` when the ASCII digit string `digits` (ending with its check
/// digit) passes the Luhn check.
pub(crate) fn is_valid(digits: &str) -> bool {
    weighted_sum(digits, false).is_multiple_of(10)
}

/// Returns the check digit to append to the ASCII digit string `body` so that
/// the result passes the Luhn check.
pub(crate) fn check_digit(body: &str) -> char {
    let remainder = weighted_sum(body, true) % 10;
    let digit = (10 - remainder) % 10;
    char::from_digit(digit, 10).unwrap_or('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        let cases = [
            ("79927398713", true), // classic Luhn example
            ("79927398710", false),
            ("732829320", true),
            ("055800296", true),
            ("110046019", false),
            ("0", true),
            ("18", true),
        ];
        for (digits, expected) in cases {
            assert_eq!(is_valid(digits), expected, "{digits}");
        }
    }

    #[test]
    fn check_digit_completes_known_numbers() {
        assert_eq!(check_digit("7992739871"), '3');
        assert_eq!(check_digit("73282932"), '0');
        assert_eq!(check_digit("05580029"), '6');
        assert_eq!(check_digit(""), '0');
    }
}
