/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_GPU_NVML_API_H
#define FP_GPU_NVML_API_H

/*
 * The subset of NVIDIA's public nvml.h (API version 12) that freqpilot uses,
 * declared by hand so the project builds without the CUDA SDK and loads the
 * library with dlopen at run time. Layouts and values were checked against the
 * public header of NVML 12.2 (cuda-nvml-dev 12.2.140, as vendored by go-nvml):
 * a wrong value here passes every test against the fake and fails on a GPU.
 *
 * The fake library (tests/fake_nvml) includes this file too and checks every
 * function it exports against the FPN_FUNCS signatures below.
 */

#include <stddef.h>

typedef int nvmlReturn_t;
enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NO_PERMISSION = 4,
    NVML_ERROR_ALREADY_INITIALIZED = 5,
    NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_INSUFFICIENT_POWER = 8,
    NVML_ERROR_DRIVER_NOT_LOADED = 9,
    NVML_ERROR_TIMEOUT = 10,
    NVML_ERROR_IRQ_ISSUE = 11,
    NVML_ERROR_LIBRARY_NOT_FOUND = 12,
    NVML_ERROR_FUNCTION_NOT_FOUND = 13,
    NVML_ERROR_CORRUPTED_INFOROM = 14,
    NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_RESET_REQUIRED = 16,
    NVML_ERROR_OPERATING_SYSTEM = 17,
    NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
    NVML_ERROR_IN_USE = 19,
    NVML_ERROR_MEMORY = 20,
    NVML_ERROR_NO_DATA = 21,
    NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
    NVML_ERROR_UNKNOWN = 999,
};

/* In nvml.h: typedef struct nvmlDevice_st *nvmlDevice_t; */
typedef struct nvmlDevice_st *nvmlDevice_t;

typedef int nvmlClockType_t;
enum { NVML_CLOCK_GRAPHICS = 0, NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2, NVML_CLOCK_VIDEO = 3 };
typedef int nvmlClockId_t;
enum {
    NVML_CLOCK_ID_CURRENT = 0,
    NVML_CLOCK_ID_APP_CLOCK_TARGET = 1,
    NVML_CLOCK_ID_APP_CLOCK_DEFAULT = 2,
    NVML_CLOCK_ID_CUSTOMER_BOOST_MAX = 3,
};
typedef int nvmlTemperatureSensors_t;
enum { NVML_TEMPERATURE_GPU = 0 };
typedef int nvmlPstates_t;
enum { NVML_PSTATE_UNKNOWN = 32 };

typedef struct nvmlUtilization_st {
    unsigned int gpu;
    unsigned int memory;
} nvmlUtilization_t;

typedef struct nvmlMemory_st {
    unsigned long long total, free, used;
} nvmlMemory_t;

typedef struct nvmlMemory_v2_st {
    unsigned int version; /* nvmlMemory_v2 */
    unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t;
#define nvmlMemory_v2 ((unsigned int)(sizeof(nvmlMemory_v2_t) | (2u << 24)))

/* Clock event ("throttle") reasons. */
#define NVML_CLOCKS_EVENT_REASON_GPU_IDLE 0x1ull
#define NVML_CLOCKS_EVENT_REASON_APPLICATIONS_CLOCKS_SETTING 0x2ull
#define NVML_CLOCKS_EVENT_REASON_SW_POWER_CAP 0x4ull
#define NVML_CLOCKS_THROTTLE_REASON_HW_SLOWDOWN 0x8ull

typedef int nvmlValueType_t;
enum {
    NVML_VALUE_TYPE_DOUBLE = 0,
    NVML_VALUE_TYPE_UNSIGNED_INT = 1,
    NVML_VALUE_TYPE_UNSIGNED_LONG = 2,
    NVML_VALUE_TYPE_UNSIGNED_LONG_LONG = 3,
    NVML_VALUE_TYPE_SIGNED_LONG_LONG = 4,
    NVML_VALUE_TYPE_SIGNED_INT = 5,
};

typedef union nvmlValue_st {
    double dVal;
    int siVal;
    unsigned int uiVal;
    unsigned long ulVal;
    unsigned long long ullVal;
    signed long long sllVal;
    unsigned short usVal;
} nvmlValue_t;

typedef struct nvmlFieldValue_st {
    unsigned int fieldId;
    unsigned int scopeId;
    long long timestamp;
    long long latencyUsec;
    nvmlValueType_t valueType;
    nvmlReturn_t nvmlReturn;
    nvmlValue_t value;
} nvmlFieldValue_t;

#define NVML_FI_DEV_MEMORY_TEMP 82
#define NVML_FI_DEV_POWER_AVERAGE 185 /* mW, 1-s average (Ampere except GA100, newer) */
#define NVML_FI_DEV_POWER_INSTANT 186 /* mW */

/* GPM (Hopper and newer). */
typedef struct {
    struct nvmlGpmSample_st *handle;
} nvmlGpmSample_t;

typedef struct {
    char *shortName;
    char *longName;
    char *unit;
} nvmlGpmMetricMetricInfo_t;

typedef struct {
    unsigned int metricId;
    nvmlReturn_t nvmlReturn;
    double value;
    nvmlGpmMetricMetricInfo_t metricInfo;
} nvmlGpmMetric_t;

/*
 * NVML_GPM_METRIC_MAX is 98 in NVML 12.2 and grew in later headers (333 with
 * driver 550) while NVML_GPM_METRICS_GET_VERSION stayed 1; the library reads
 * numMetrics entries. The largest known size is declared so that a library
 * built from any of these headers never touches memory past the array.
 */
#define FPN_GPM_METRIC_MAX 333
typedef struct {
    unsigned int version; /* NVML_GPM_METRICS_GET_VERSION */
    unsigned int numMetrics;
    nvmlGpmSample_t sample1;
    nvmlGpmSample_t sample2;
    nvmlGpmMetric_t metrics[FPN_GPM_METRIC_MAX];
} nvmlGpmMetricsGet_t;
#define NVML_GPM_METRICS_GET_VERSION 1

typedef struct {
    unsigned int version; /* NVML_GPM_SUPPORT_VERSION */
    unsigned int isSupportedDevice;
} nvmlGpmSupport_t;
#define NVML_GPM_SUPPORT_VERSION 1

/* GPM metric ids (values are percent, 0..100). */
enum {
    NVML_GPM_METRIC_GRAPHICS_UTIL = 1,
    NVML_GPM_METRIC_SM_UTIL = 2,
    NVML_GPM_METRIC_SM_OCCUPANCY = 3,
    NVML_GPM_METRIC_ANY_TENSOR_UTIL = 5,
    NVML_GPM_METRIC_DRAM_BW_UTIL = 10,
    NVML_GPM_METRIC_FP64_UTIL = 11,
    NVML_GPM_METRIC_FP32_UTIL = 12,
    NVML_GPM_METRIC_FP16_UTIL = 13,
};

/*
 * Every function freqpilot may call: X(name, parameter list). The backend
 * turns this into function pointers, the fake into signature checks.
 */
#define FPN_FUNCS(X)                                                                               \
    X(nvmlInit_v2, (void))                                                                         \
    X(nvmlInit, (void))                                                                            \
    X(nvmlShutdown, (void))                                                                        \
    X(nvmlDeviceGetCount_v2, (unsigned int *count))                                                \
    X(nvmlDeviceGetCount, (unsigned int *count))                                                   \
    X(nvmlDeviceGetHandleByIndex_v2, (unsigned int index, nvmlDevice_t *device))                   \
    X(nvmlDeviceGetHandleByIndex, (unsigned int index, nvmlDevice_t *device))                      \
    X(nvmlDeviceGetHandleByUUID, (const char *uuid, nvmlDevice_t *device))                         \
    X(nvmlDeviceGetName, (nvmlDevice_t device, char *name, unsigned int length))                   \
    X(nvmlDeviceGetUUID, (nvmlDevice_t device, char *uuid, unsigned int length))                   \
    X(nvmlSystemGetDriverVersion, (char *version, unsigned int length))                            \
    X(nvmlDeviceGetPowerUsage, (nvmlDevice_t device, unsigned int *power_mw))                      \
    X(nvmlDeviceGetTotalEnergyConsumption, (nvmlDevice_t device, unsigned long long *energy_mj))   \
    X(nvmlDeviceGetClockInfo, (nvmlDevice_t device, nvmlClockType_t type, unsigned int *mhz))      \
    X(nvmlDeviceGetMaxClockInfo, (nvmlDevice_t device, nvmlClockType_t type, unsigned int *mhz))   \
    X(nvmlDeviceGetClock,                                                                          \
      (nvmlDevice_t device, nvmlClockType_t type, nvmlClockId_t id, unsigned int *mhz))            \
    X(nvmlDeviceGetSupportedMemoryClocks,                                                          \
      (nvmlDevice_t device, unsigned int *count, unsigned int *mhz))                               \
    X(nvmlDeviceGetSupportedGraphicsClocks,                                                        \
      (nvmlDevice_t device, unsigned int mem_mhz, unsigned int *count, unsigned int *mhz))         \
    X(nvmlDeviceSetGpuLockedClocks,                                                                \
      (nvmlDevice_t device, unsigned int min_mhz, unsigned int max_mhz))                           \
    X(nvmlDeviceResetGpuLockedClocks, (nvmlDevice_t device))                                       \
    X(nvmlDeviceSetApplicationsClocks,                                                             \
      (nvmlDevice_t device, unsigned int mem_mhz, unsigned int graphics_mhz))                      \
    X(nvmlDeviceResetApplicationsClocks, (nvmlDevice_t device))                                    \
    X(nvmlDeviceGetPowerManagementLimit, (nvmlDevice_t device, unsigned int *limit_mw))            \
    X(nvmlDeviceGetPowerManagementLimitConstraints,                                                \
      (nvmlDevice_t device, unsigned int *min_mw, unsigned int *max_mw))                           \
    X(nvmlDeviceGetPowerManagementDefaultLimit, (nvmlDevice_t device, unsigned int *limit_mw))     \
    X(nvmlDeviceSetPowerManagementLimit, (nvmlDevice_t device, unsigned int limit_mw))             \
    X(nvmlDeviceGetUtilizationRates, (nvmlDevice_t device, nvmlUtilization_t * utilization))       \
    X(nvmlDeviceGetTemperature,                                                                    \
      (nvmlDevice_t device, nvmlTemperatureSensors_t sensor, unsigned int *temp_c))                \
    X(nvmlDeviceGetMemoryInfo_v2, (nvmlDevice_t device, nvmlMemory_v2_t * memory))                 \
    X(nvmlDeviceGetMemoryInfo, (nvmlDevice_t device, nvmlMemory_t * memory))                       \
    X(nvmlDeviceGetPerformanceState, (nvmlDevice_t device, nvmlPstates_t * pstate))                \
    X(nvmlDeviceGetCurrentClocksEventReasons, (nvmlDevice_t device, unsigned long long *reasons))  \
    X(nvmlDeviceGetCurrentClocksThrottleReasons,                                                   \
      (nvmlDevice_t device, unsigned long long *reasons))                                          \
    X(nvmlDeviceGetMigMode, (nvmlDevice_t device, unsigned int *current, unsigned int *pending))   \
    X(nvmlDeviceGetFieldValues, (nvmlDevice_t device, int count, nvmlFieldValue_t *values))        \
    X(nvmlGpmQueryDeviceSupport, (nvmlDevice_t device, nvmlGpmSupport_t * support))                \
    X(nvmlGpmSampleAlloc, (nvmlGpmSample_t * sample))                                              \
    X(nvmlGpmSampleFree, (nvmlGpmSample_t sample))                                                 \
    X(nvmlGpmSampleGet, (nvmlDevice_t device, nvmlGpmSample_t sample))                             \
    X(nvmlGpmMetricsGet, (nvmlGpmMetricsGet_t * metrics))

/* nvmlErrorString returns a string, not nvmlReturn_t: declared apart. */
typedef const char *fpn_nvmlErrorString_fn(nvmlReturn_t result);

#define FPN_TYPEDEF(name, params) typedef nvmlReturn_t fpn_##name##_fn params;
FPN_FUNCS(FPN_TYPEDEF)
#undef FPN_TYPEDEF

#endif
