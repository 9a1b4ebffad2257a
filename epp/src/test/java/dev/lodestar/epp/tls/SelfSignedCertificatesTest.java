package dev.lodestar.epp.tls;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.security.interfaces.RSAPublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

class SelfSignedCertificatesTest {
    private static final Instant NOW = Instant.parse("2026-11-23T10:15:30.250Z");
    private static ServingCertificate generated;
    private static X509Certificate certificate;

    @BeforeAll
    static void generate() {
        generated = SelfSignedCertificates.generate(Clock.fixed(NOW, ZoneOffset.UTC));
        certificate = generated.leaf();
    }

    @Test
    void subjectAndIssuerAreOnlyTheOrganization() {
        assertThat(certificate.getSubjectX500Principal().getName()).isEqualTo("O=Inference Ext");
        assertThat(certificate.getIssuerX500Principal()).isEqualTo(certificate.getSubjectX500Principal());
    }

    @Test
    void keyIsRsa4096() {
        assertThat(certificate.getPublicKey()).isInstanceOfSatisfying(RSAPublicKey.class,
                key -> assertThat(key.getModulus().bitLength()).isEqualTo(4096));
        assertThat(generated.key().getAlgorithm()).isEqualTo("RSA");
        assertThat(certificate.getSigAlgName()).isEqualTo("SHA256withRSA");
    }

    @Test
    void validForTenTimes365DaysFromNow() {
        assertThat(certificate.getNotBefore().toInstant()).isEqualTo(Instant.parse("2026-11-23T10:15:30Z"));
        assertThat(Duration.between(certificate.getNotBefore().toInstant(), certificate.getNotAfter().toInstant()))
                .isEqualTo(Duration.ofDays(3650));
    }

    @Test
    void usagesAndConstraintsAreUpstreams() throws Exception {
        boolean[] keyUsage = certificate.getKeyUsage();
        assertThat(keyUsage[0]).as("digitalSignature").isTrue();
        assertThat(keyUsage[1]).as("nonRepudiation").isFalse();
        assertThat(keyUsage[2]).as("keyEncipherment").isTrue();
        assertThat(keyUsage[5]).as("keyCertSign").isFalse();
        assertThat(certificate.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
        assertThat(certificate.getBasicConstraints()).as("not a CA").isEqualTo(-1);
        assertThat(certificate.getCriticalExtensionOIDs()).containsExactlyInAnyOrder("2.5.29.15", "2.5.29.19");
        assertThat(certificate.getNonCriticalExtensionOIDs()).containsExactly("2.5.29.37");
        assertThat(certificate.getSubjectAlternativeNames()).isNull();
        assertThat(certificate.getVersion()).isEqualTo(3);
        certificate.verify(certificate.getPublicKey());
    }

    @Test
    void serialIsRandomAndBelow2To128() {
        BigInteger limit = BigInteger.ONE.shiftLeft(128);
        assertThat(certificate.getSerialNumber()).isNotNegative().isLessThan(limit);
        X509Certificate other = SelfSignedCertificates.generate(Clock.systemUTC()).leaf();
        assertThat(other.getSerialNumber()).isNotEqualTo(certificate.getSerialNumber());
    }

    @Test
    void servesAsHelidonTls() {
        assertThat(generated.toTls().enabled()).isTrue();
    }
}
