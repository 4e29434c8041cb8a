/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Supported graphics clocks of the three parts in the real captures, copied from
 * `nvidia-smi -q -d SUPPORTED_CLOCKS` (shared/data/ai-inference-energy/hardware_info):
 * V100-PCIE-32GB 167 clocks 1380..135 MHz at memory 877 MHz (7.5 MHz steps, rounded down),
 * A100-PCIE-40GB 81 clocks 1410..210 MHz at 1215 MHz, H100 NVL 97 clocks 1785..345 MHz at
 * 2619 MHz. Limits and idle power from the same captures' nvidia-smi tables.
 */
#include <strings.h>

#include "gpu/clock_tables.h"

static const unsigned v100_clocks_mhz[] = {
    1380, 1372, 1365, 1357, 1350, 1342, 1335, 1327, 1320, 1312, 1305, 1297, 1290, 1282, 1275, 1267,
    1260, 1252, 1245, 1237, 1230, 1222, 1215, 1207, 1200, 1192, 1185, 1177, 1170, 1162, 1155, 1147,
    1140, 1132, 1125, 1117, 1110, 1102, 1095, 1087, 1080, 1072, 1065, 1057, 1050, 1042, 1035, 1027,
    1020, 1012, 1005, 997,  990,  982,  975,  967,  960,  952,  945,  937,  930,  922,  915,  907,
    900,  892,  885,  877,  870,  862,  855,  847,  840,  832,  825,  817,  810,  802,  795,  787,
    780,  772,  765,  757,  750,  742,  735,  727,  720,  712,  705,  697,  690,  682,  675,  667,
    660,  652,  645,  637,  630,  622,  615,  607,  600,  592,  585,  577,  570,  562,  555,  547,
    540,  532,  525,  517,  510,  502,  495,  487,  480,  472,  465,  457,  450,  442,  435,  427,
    420,  412,  405,  397,  390,  382,  375,  367,  360,  352,  345,  337,  330,  322,  315,  307,
    300,  292,  285,  277,  270,  262,  255,  247,  240,  232,  225,  217,  210,  202,  195,  187,
    180,  172,  165,  157,  150,  142,  135,
};

static const unsigned a100_clocks_mhz[] = {
    1410, 1395, 1380, 1365, 1350, 1335, 1320, 1305, 1290, 1275, 1260, 1245, 1230, 1215,
    1200, 1185, 1170, 1155, 1140, 1125, 1110, 1095, 1080, 1065, 1050, 1035, 1020, 1005,
    990,  975,  960,  945,  930,  915,  900,  885,  870,  855,  840,  825,  810,  795,
    780,  765,  750,  735,  720,  705,  690,  675,  660,  645,  630,  615,  600,  585,
    570,  555,  540,  525,  510,  495,  480,  465,  450,  435,  420,  405,  390,  375,
    360,  345,  330,  315,  300,  285,  270,  255,  240,  225,  210,
};

static const unsigned h100_clocks_mhz[] = {
    1785, 1770, 1755, 1740, 1725, 1710, 1695, 1680, 1665, 1650, 1635, 1620, 1605, 1590,
    1575, 1560, 1545, 1530, 1515, 1500, 1485, 1470, 1455, 1440, 1425, 1410, 1395, 1380,
    1365, 1350, 1335, 1320, 1305, 1290, 1275, 1260, 1245, 1230, 1215, 1200, 1185, 1170,
    1155, 1140, 1125, 1110, 1095, 1080, 1065, 1050, 1035, 1020, 1005, 990,  975,  960,
    945,  930,  915,  900,  885,  870,  855,  840,  825,  810,  795,  780,  765,  750,
    735,  720,  705,  690,  675,  660,  645,  630,  615,  600,  585,  570,  555,  540,
    525,  510,  495,  480,  465,  450,  435,  420,  405,  390,  375,  360,  345,
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Default application clocks: the V100 capture ran at 1230 MHz by default (SACLK=1230). */
const fp_clock_table fp_clock_table_v100 = {
    "V100",
    "Tesla V100-PCIE-32GB",
    877,
    v100_clocks_mhz,
    N_OF(v100_clocks_mhz),
    1230,
    250.0,
    100.0,
    250.0,
    25.0,
    32510.0,
};
const fp_clock_table fp_clock_table_a100 = {
    "A100",
    "NVIDIA A100-PCIE-40GB",
    1215,
    a100_clocks_mhz,
    N_OF(a100_clocks_mhz),
    1410,
    250.0,
    150.0,
    250.0,
    36.0,
    40536.0,
};
const fp_clock_table fp_clock_table_h100 = {
    "H100",
    "NVIDIA H100 NVL",
    2619,
    h100_clocks_mhz,
    N_OF(h100_clocks_mhz),
    1785,
    400.0,
    200.0,
    400.0,
    60.0,
    95830.0,
};

const fp_clock_table *fp_clock_table_find(const char *short_name)
{
    static const fp_clock_table *const all[] = {&fp_clock_table_v100, &fp_clock_table_a100,
                                                &fp_clock_table_h100};
    if (!short_name)
        return 0;
    for (unsigned i = 0; i < N_OF(all); i++)
        if (strcasecmp(all[i]->short_name, short_name) == 0)
            return all[i];
    return 0;
}
